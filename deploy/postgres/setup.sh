#!/usr/bin/env bash
# Creates boilerd's role and database on the local PostgreSQL (run as root or the postgres user).
# The password comes from BOILERD_DATABASE_PASSWORD (never put on a command line); the database name from
# BOILERD_DATABASE_NAME (default boiler).
set -euo pipefail
: "${BOILERD_DATABASE_PASSWORD:?set BOILERD_DATABASE_PASSWORD}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
run_psql() { if [ "$(id -un)" = postgres ]; then psql "$@"; else su postgres -c "psql $(printf '%q ' "$@")"; fi; }
umask 077
database="${BOILERD_DATABASE_NAME:-boiler}"
[[ "$database" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "setup.sh: BOILERD_DATABASE_NAME must be [a-z_][a-z0-9_]*" >&2; exit 1; }
printf '\\set password %s\n\\set database %s\n\\i %s\n' "'${BOILERD_DATABASE_PASSWORD//\'/\'\'}'" "$database" "$here/create-database.sql" > /tmp/boilerd-setup-$$.sql
chmod 600 /tmp/boilerd-setup-$$.sql
[ "$(id -u)" = 0 ] && chown postgres /tmp/boilerd-setup-$$.sql
trap 'rm -f /tmp/boilerd-setup-$$.sql' EXIT
run_psql -v ON_ERROR_STOP=1 -f /tmp/boilerd-setup-$$.sql
echo "postgres/setup.sh: role boilerd and database $database created; set BOILERD_DATABASE_URL=postgres://boilerd@127.0.0.1:5432/$database" >&2
