#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster and make the test database; prints the URL for ACD_TEST_PG_URL.
set -euo pipefail
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
pg_lsclusters -h | grep -q "^$ver main" || pg_createcluster "$ver" main >/dev/null
pg_ctlcluster "$ver" main start 2>/dev/null || true
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
su postgres -c "psql -qtc \"SELECT 1 FROM pg_roles WHERE rolname='acd'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE USER acd WITH PASSWORD 'acd' SUPERUSER\""
su postgres -c "psql -qtc \"SELECT 1 FROM pg_database WHERE datname='acd_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O acd acd_test"
echo "postgresql+asyncpg://acd:acd@127.0.0.1/acd_test"
