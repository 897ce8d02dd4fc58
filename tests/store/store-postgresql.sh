#!/bin/bash
# The store's test cases (tests/unit/test-store) and the multi-process races
# (store-race) against a real PostgreSQL that this script starts itself: a
# fresh cluster in a temporary directory, listening only on a unix socket
# there, stopped at the end whatever happens. Skips (77) when PostgreSQL's
# server programs are not installed.
# Usage: store-postgresql.sh TEST-STORE STORE-RACE
set -uo pipefail
test_store=$(realpath "$1")
store_race=$(realpath "$2")

bindir=
for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && bindir=$d
done
if [ -z "$bindir" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        bindir=$(dirname "$(command -v initdb)")
fi
if [ -z "$bindir" ]; then
        echo "SKIP: PostgreSQL (initdb, pg_ctl) is not installed"
        exit 77
fi
psql=$bindir/psql
[ -x "$psql" ] || psql=$(command -v psql || true)
if [ -z "$psql" ]; then
        echo "SKIP: psql is not installed"
        exit 77
fi

# initdb refuses to run as root: run the server as the postgres user then.
as_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
                echo "SKIP: running as root and there is no postgres user to run the server"
                exit 77
        fi
        as_pg() { runuser -u postgres -- "$@"; }
fi

tmp=$(mktemp -d /tmp/shield-pg.XXXXXX)
data=$tmp/data
started=
cleanup() {
        [ -n "$started" ] && (cd "$tmp" && as_pg "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1)
        rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" INT TERM HUP
[ "$(id -u)" = 0 ] && chown postgres: "$tmp"
cd "$tmp" || exit 1

# A random port: with no TCP listener it only names the socket file.
port=$((20000 + RANDOM % 20000))
if ! as_pg "$bindir/initdb" -D "$data" -A trust -U postgres >"$tmp/initdb.log" 2>&1; then
        cat "$tmp/initdb.log"
        echo "FAIL: initdb"
        exit 1
fi
if ! as_pg "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 60 \
        -o "-k $tmp -p $port -c listen_addresses='' -c fsync=off" start >/dev/null; then
        cat "$tmp/server.log"
        echo "FAIL: pg_ctl start"
        exit 1
fi
started=1

url() { echo "postgresql:///$1?host=$tmp&port=$port&user=postgres"; }
status=0
for db in cases race; do
        "$psql" -X -q -h "$tmp" -p "$port" -U postgres -d postgres -c "CREATE DATABASE $db" || { echo "FAIL: createdb $db"; exit 1; }
done

echo "# the store's test cases on PostgreSQL"
SHIELD_TEST_STORE_URL=$(url cases) "$test_store" || { echo "FAIL: test-store on PostgreSQL"; status=1; }

echo "# the SQLite and PostgreSQL schemas reach the same version, with the same tables and columns"
sqlite_db=$tmp/schema.db
"$store_race" "$sqlite_db" >/dev/null || { echo "FAIL: store-race on SQLite"; status=1; }
pg_cols=$("$psql" -X -A -t -h "$tmp" -p "$port" -U postgres -d cases -c \
        "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1")
if command -v sqlite3 >/dev/null; then
        sqlite_cols=$(sqlite3 "$sqlite_db" "SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1")
        if [ "$pg_cols" != "$sqlite_cols" ]; then
                echo "FAIL: the schemas differ"
                diff <(echo "$sqlite_cols") <(echo "$pg_cols")
                status=1
        fi
else
        echo "(sqlite3 not installed: columns not compared)"
fi
pg_version=$("$psql" -X -A -t -h "$tmp" -p "$port" -U postgres -d cases -c "SELECT max(version) FROM schema_version")
echo "PostgreSQL schema version: $pg_version"

echo "# several processes racing on one PostgreSQL database"
"$store_race" "$(url race)" || { echo "FAIL: store-race on PostgreSQL"; status=1; }
once=$("$psql" -X -A -t -h "$tmp" -p "$port" -U postgres -d race -c \
        "SELECT count(*) = max(version) AND max(version) = $pg_version FROM schema_version")
[ "$once" = t ] || { echo "FAIL: schema_version of the raced database is not one row per version"; status=1; }

exit $status
