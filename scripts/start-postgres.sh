#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the server tests and prints the
# URL to test against:
#
#   eval "$(bash scripts/start-postgres.sh)"   # exports CONFER_TEST_DATABASE_URL
#   cargo nextest run -p confer-server
#   bash scripts/start-postgres.sh --stop      # stops it and deletes its files
#
# The cluster lives in a temporary directory per checkout (data, socket,
# log; under /tmp so the postgres user can reach it), listens on
# 127.0.0.1 only, on a free port, with trust authentication for local
# connections: it holds nothing but test data and is reachable only from
# this machine. Running as root, it runs PostgreSQL as the `postgres` user
# (initdb and postgres refuse to run as root). Everything but the final
# `export` line goes to stderr so `eval` sees only that.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${TMPDIR:-/tmp}/confer-postgres-$(printf %s "$PWD" | md5sum | cut -c1-8)"
pgdata="$root/data"

# Debian's server binaries are not on PATH; take the newest installed version.
bindir=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "$dir/initdb" ] && bindir="$dir"
done
if [ -z "$bindir" ]; then
  echo "start-postgres.sh: no PostgreSQL server found (apt-get install postgresql)" >&2
  exit 1
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "${1:-}" = "--stop" ]; then
  if [ -f "$pgdata/postmaster.pid" ]; then
    as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >&2 || true
  fi
  rm -rf "$root"
  exit 0
fi

# Already running from an earlier call: print its URL again.
if [ -f "$root/url" ] && [ -f "$pgdata/postmaster.pid" ] \
  && as_pg "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  echo "export CONFER_TEST_DATABASE_URL=$(cat "$root/url")"
  exit 0
fi

rm -rf "$root"
mkdir -p "$root"
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$root"
fi
chmod 700 "$root"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
as_pg "$bindir/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale >&2
as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$root/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $root -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >&2

url="postgres://postgres@127.0.0.1:$port/postgres"
echo "$url" > "$root/url"
echo "PostgreSQL on 127.0.0.1:$port (data in $pgdata); stop with: bash scripts/start-postgres.sh --stop" >&2
echo "export CONFER_TEST_DATABASE_URL=$url"
