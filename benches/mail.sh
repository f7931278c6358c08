#!/usr/bin/env bash
# The email channel's benchmark (issue 4): seeds a SQLite database at the chosen size, starts
# Dovecot, and runs benches/mail_ingest.rs: 5,000 messages through `frontdesk ingest-mail` and
# 5,000 through IMAP, half from new senders. Prints messages/s and contacts created.
#
#   benches/mail.sh                 # 100,000 contacts
#   benches/mail.sh 1000000         # 1,000,000 contacts
#   SKIP_SEED=1 benches/mail.sh     # reuse the last seeded file
#   FEATURES=fixed-address benches/mail.sh   # the fixed-address build (see build.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
CONTACTS=${1:-100000}
DB="$PWD/bench-data/mail-$CONTACTS.db"
mkdir -p bench-data
.ci/imap-server >/dev/null
FEATURE_ARGS=(${FEATURES:+--features "$FEATURES"})
cargo build --release --quiet "${FEATURE_ARGS[@]}"
if [[ -z ${SKIP_SEED:-} || ! -f $DB ]]; then
  rm -f "$DB" "$DB-wal" "$DB-shm"
  DATABASE_URL="sqlite://$DB" target/release/frontdesk seed --contacts "$CONTACTS" --accounts 5000 --tickets $((CONTACTS * 3)) --articles 0
fi
MAIL_BENCH_DATABASE_URL="sqlite://$DB" cargo bench --bench mail_ingest "${FEATURE_ARGS[@]}"
