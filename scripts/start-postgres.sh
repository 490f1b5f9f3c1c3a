#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests and benchmarks, as the postgres user.
# Prints the URI to use. Idempotent: an already running server on the port is reused.
# Usage: scripts/start-postgres.sh [port]   (data under ${RUNYARD_PG_DIR:-/tmp/runyard-pg})
# Tests run with fsync, synchronous_commit and full_page_writes off; RUNYARD_PG_STOCK=1 starts
# the server with PostgreSQL's stock settings instead, as the benchmarks' published figures
# are measured (give it a port and a data directory of its own).
set -euo pipefail
port="${1:-${RUNYARD_PG_PORT:-5432}}"
dir="${RUNYARD_PG_DIR:-/tmp/runyard-pg}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bin" ]; then
  echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! as_pg "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  if [ ! -s "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${RUNYARD_PG_STOCK:-0}" = 1 ] && fast=""
  as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 $fast -c max_connections=300" start >/dev/null
fi
as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
  "SELECT 1 FROM pg_roles WHERE rolname='runyard'" | grep -q 1 ||
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc \
    "CREATE ROLE runyard LOGIN SUPERUSER PASSWORD 'runyard'"
as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='runyard'" | grep -q 1 ||
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE runyard OWNER runyard"
echo "postgresql://runyard:runyard@127.0.0.1:$port/runyard"
