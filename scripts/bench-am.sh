#!/usr/bin/env bash
# Benchmark of the AM export: generates COUNT (default 2000) realistic AMs with the seeded
# generator into a fresh database, runs the export once (release build) and prints the wall
# time and the peak RSS. Needs PostgreSQL (PGHOST/PGPORT/PGUSER, default 127.0.0.1:5432 postgres)
# and python3. Usage: scripts/bench-am.sh [COUNT] [SEED]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
COUNT="${1:-2000}"
SEED="${2:-42}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
DB="am_bench_$$"
SQL="$(mktemp /tmp/am-bench-XXXXXX.sql)"
cleanup() { rm -f "$SQL"; dropdb --if-exists "$DB" >/dev/null 2>&1 || true; }
trap cleanup EXIT

cargo build --release --quiet --example am_export_bench
python3 testdata/am/gen_ams.py --seed "$SEED" --count "$COUNT" > "$SQL"
createdb "$DB"
psql -q -v ON_ERROR_STOP=1 -d "$DB" -f "$SQL" >/dev/null
psql -q -d "$DB" -c "VACUUM ANALYZE" >/dev/null
echo "generated $COUNT AMs (seed $SEED), $(du -h "$SQL" | cut -f1) of SQL"

URL="postgresql://${PGUSER}@${PGHOST}:${PGPORT}/${DB}"
BIN=target/release/examples/am_export_bench
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v "$BIN" "$URL" 2> /tmp/am-bench-time.$$ || { cat /tmp/am-bench-time.$$; exit 1; }
  grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time" /tmp/am-bench-time.$$
  rm -f /tmp/am-bench-time.$$
else
  # No GNU time: bash's `time` for the wall clock, getrusage via python for the peak RSS.
  python3 - "$BIN" "$URL" <<'PY'
import resource, subprocess, sys, time
start = time.time()
subprocess.run(sys.argv[1:], check=True)
wall = time.time() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"wall {wall:.2f} s; peak RSS {peak_kib / 1024:.1f} MiB")
PY
fi
