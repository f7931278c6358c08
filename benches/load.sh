#!/usr/bin/env bash
# Load test of the console's hot pages with wrk, on SQLite and PostgreSQL.
#
#   benches/load.sh [CONTACTS] [ACCOUNTS] [TICKETS]     (defaults: 100000 5000 300000)
#
# For each backend: seeds a fresh database with `frontdesk seed`, starts the release binary,
# logs in, then runs wrk (64 connections, 2 threads) against Contacts Home page 1, a deep page
# (the keyset cursor of row CONTACTS/2, i.e. page ~2,000 at 100,000 contacts), a search and a
# contact detail page; then, logged in as a Help Center user, My Tickets, a ticket page, an
# article search, and ticket submission (POSTs through benches/submit.lua: writes/s).
# Prints requests/s and p99 latency per page.
# Needs: wrk (apt-get install wrk), python3, psql, a PostgreSQL at $PG_ADMIN_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
CONTACTS="${1:-100000}"; ACCOUNTS="${2:-5000}"; TICKETS="${3:-300000}"
DURATION="${DURATION:-15s}"; CONNECTIONS="${CONNECTIONS:-64}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}"
# The server reaches PostgreSQL over loopback, where TLS (which sqlx negotiates by default when
# the server offers it) only burns CPU on both sides: PG_PARAMS="" measures with it.
PG_PARAMS="${PG_PARAMS-?sslmode=disable}"
PORT="${PORT:-18080}"; BASE="http://127.0.0.1:$PORT"
DATA="bench-data"; mkdir -p "$DATA"
# One database per size, so that SKIP_SEED=1 reuses the 100,000 and the 1,000,000 alike.
DB_NAME="${DB_NAME:-bench_$CONTACTS}"
# PAGES="broad search|fragment" measures only the pages whose label matches (a grep -E pattern).
PAGES="${PAGES:-}"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
# BIN=path measures another build of the server (say, one kept from before a change).
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="${CARGO_TARGET_DIR:-target}/release/frontdesk"
fi
# Whatever happens, stop the servers this script started.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

run_backend() {
  local name="$1" url="$2"
  if [ -z "${SKIP_SEED:-}" ]; then
    echo "== $name: seeding $CONTACTS contacts, $ACCOUNTS accounts, $TICKETS tickets"
    FRONTDESK_LOG=warn "$BIN" --database-url "$url" seed --contacts "$CONTACTS" --accounts "$ACCOUNTS" --tickets "$TICKETS"
  else
    echo "== $name: reusing the seeded database"
  fi
  FRONTDESK_LOG=warn "$BIN" --database-url "$url" --listen "127.0.0.1:$PORT" --db-pool 16 &
  local server=$!
  trap 'kill $server 2>/dev/null || true' RETURN
  for _ in $(seq 1 100); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

  local jar="$DATA/cookies.txt"; rm -f "$jar"
  local csrf
  csrf=$(curl -fsS -c "$jar" -b "$jar" "$BASE/agent/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  curl -fsS -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$csrf" \
    --data-urlencode "email=admin@example.com" --data-urlencode "password=password123" "$BASE/agent/login"
  local cookie
  cookie=$(awk '$6 == "frontdesk_session" { print $7 }' "$jar")

  local deep detail search hc_email hc_ticket
  read -r deep detail search hc_email hc_ticket < <(python3 benches/cursor.py "$url" $((CONTACTS / 2)))
  local pages=(
    "home|$BASE/agent/contacts"
    "deep page|$BASE/agent/contacts?view=all&sort=name&dir=asc&after=$deep"
    "search|$BASE/agent/contacts?q=$search"
    "broad search|$BASE/agent/contacts?q=melissa%20ortiz"
    "fragment|$BASE/agent/contacts?q=0134"
    "detail|$BASE/agent/contacts/$detail"
  )
  for p in "${pages[@]}"; do
    local label="${p%%|*}" target="${p#*|}"
    if [ -n "$PAGES" ] && ! grep -qE "$PAGES" <<<"$label"; then continue; fi
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: frontdesk_session=$cookie" "$target")
    [ "$status" = 200 ] || { echo "$label answered $status" >&2; exit 1; }
    local out
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Cookie: frontdesk_session=$cookie" "$target")
    printf '%-8s %-12s %10s req/s   p99 %s\n' "$name" "$label" \
      "$(echo "$out" | awk '/Requests\/sec/ { print $2 }')" "$(echo "$out" | awk '$1 == "99%" { print $2 }')"
  done

  # The Help Center, as the end-user $hc_email (seeded with password123).
  [ -z "$PAGES" ] || return 0
  local hjar="$DATA/help-cookies.txt"; rm -f "$hjar"
  csrf=$(curl -fsS -c "$hjar" -b "$hjar" "$BASE/help/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  curl -fsS -o /dev/null -c "$hjar" -b "$hjar" --data-urlencode "csrf_token=$csrf" \
    --data-urlencode "email=$hc_email" --data-urlencode "password=password123" "$BASE/help/login"
  local help
  help=$(awk '$6 == "frontdesk_help" { print $7 }' "$hjar")
  local hpages=(
    "my tickets|$BASE/help/tickets"
    "hc ticket|$BASE/help/tickets/$hc_ticket"
    "kb search|$BASE/help/articles?q=reset%20router"
  )
  for p in "${hpages[@]}"; do
    local label="${p%%|*}" target="${p#*|}"
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: frontdesk_help=$help" "$target")
    [ "$status" = 200 ] || { echo "$label answered $status" >&2; exit 1; }
    local out
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Cookie: frontdesk_help=$help" "$target")
    printf '%-8s %-12s %10s req/s   p99 %s\n' "$name" "$label" \
      "$(echo "$out" | awk '/Requests\/sec/ { print $2 }')" "$(echo "$out" | awk '$1 == "99%" { print $2 }')"
  done
  csrf=$(curl -fsS -H "Cookie: frontdesk_help=$help" "$BASE/help/tickets/new" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  local before out
  before=$(curl -fsS -H "Cookie: frontdesk_help=$help" "$BASE/help/tickets" | grep -c 'href="/help/tickets/[0-9]' || true)
  out=$(CSRF="$csrf" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/submit.lua \
    -H "Cookie: frontdesk_help=$help" "$BASE/help/tickets")
  printf '%-8s %-12s %10s req/s   p99 %s   (%s)\n' "$name" "submit" \
    "$(echo "$out" | awk '/Requests\/sec/ { print $2 }')" "$(echo "$out" | awk '$1 == "99%" { print $2 }')" \
    "$(echo "$out" | grep -E 'Non-2xx|Socket errors' | tr '\n' ' ' || true)"
}

# SKIP_SEED=1 reuses the databases of the previous run (seeding 1,000,000 contacts takes a while).
# BACKENDS="sqlite" or "postgres" runs one of them.
for backend in ${BACKENDS:-sqlite postgres}; do
  case "$backend" in
    sqlite)
      [ -n "${SKIP_SEED:-}" ] || rm -f "$DATA/$DB_NAME.db" "$DATA/$DB_NAME.db-wal" "$DATA/$DB_NAME.db-shm"
      run_backend sqlite "sqlite://$DATA/$DB_NAME.db" ;;
    postgres)
      [ -n "${SKIP_SEED:-}" ] || psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS frontdesk_$DB_NAME WITH (FORCE)" -c "CREATE DATABASE frontdesk_$DB_NAME"
      run_backend postgres "${PG_ADMIN_URL%/*}/frontdesk_$DB_NAME$PG_PARAMS" ;;
  esac
done
