#!/usr/bin/env bash
# Install (if needed) and start (if not running) a throwaway PostgreSQL cluster for the tests.
# Idempotent. Prints the URL to export:  eval "$(scripts/ci-postgres.sh)"
#   -> export OVERT_TEST_POSTGRES_URL=postgresql+psycopg://overt@/postgres?host=/tmp/overt-ci-pg&port=55432
set -euo pipefail
DIR=${OVERT_PG_DIR:-/tmp/overt-ci-pg}
PORT=${OVERT_PG_PORT:-55432}
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get install -y -q postgresql >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q postgresql >/dev/null; }
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi
mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  "${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U overt --auth=trust -E UTF8 >/dev/null
fi
if ! "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -o "-k $DIR -p $PORT -c listen_addresses=127.0.0.1" \
    -l "$DIR/log" -w start >/dev/null
fi
echo "export OVERT_TEST_POSTGRES_URL='postgresql+psycopg://overt@/postgres?host=$DIR&port=$PORT'"
