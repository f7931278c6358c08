#!/usr/bin/env bash
# The WhatsApp channel's inbound benchmark (issue 22): seeds a SQLite database at the chosen
# size and runs benches/whatsapp_inbound.rs against it: signed webhooks at 64 connections, half
# from new numbers. Prints messages/s.
#
#   benches/whatsapp.sh                 # 100,000 contacts
#   benches/whatsapp.sh 1000000         # 1,000,000 contacts
#   SKIP_SEED=1 benches/whatsapp.sh     # reuse the last seeded file
#   PG=1 benches/whatsapp.sh            # PostgreSQL (a fresh database `whatsapp_bench`)
set -euo pipefail
cd "$(dirname "$0")/.."
CONTACTS=${1:-100000}
mkdir -p bench-data
cargo build --release --quiet
if [[ -n ${PG:-} ]]; then
  URL="postgres://postgres@127.0.0.1:5432/whatsapp_bench?sslmode=disable"
  if [[ -z ${SKIP_SEED:-} ]]; then
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS whatsapp_bench" -c "CREATE DATABASE whatsapp_bench"
    DATABASE_URL="$URL" target/release/frontdesk seed --contacts "$CONTACTS" --accounts 5000 --tickets $((CONTACTS * 3)) --articles 0
  fi
else
  DB="$PWD/bench-data/whatsapp-$CONTACTS.db"
  URL="sqlite://$DB"
  if [[ -z ${SKIP_SEED:-} || ! -f $DB ]]; then
    rm -f "$DB" "$DB-wal" "$DB-shm"
    DATABASE_URL="$URL" target/release/frontdesk seed --contacts "$CONTACTS" --accounts 5000 --tickets $((CONTACTS * 3)) --articles 0
  fi
fi
WA_BENCH_DATABASE_URL="$URL" cargo bench --bench whatsapp_inbound
