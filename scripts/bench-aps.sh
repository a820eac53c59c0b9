#!/usr/bin/env bash
# Benchmark of `data-tasks aps`: generates a COUNT-document (default 500 000) Géorisques dump with
# the seeded generator (testdata/aps/gen_dump.py) plus matching installations files and an `ap`
# store of sparse files (~218k objects for 500k documents), serves the dump from a local
# `python3 -m http.server`, runs `data-tasks aps` once (release build) and prints the wall time
# and the peak RSS. Needs python3 and GNU time (Debian package `time`, in install-deps.sh).
# Usage: scripts/bench-aps.sh [COUNT] [SEED]      BIN=path/to/data-tasks to skip the build.
#        TASK=daily scripts/bench-aps.sh ...      runs `daily` instead (aps → ocr → aps, report
#        printed) on a store where every AP is already processed: "nothing new to OCR".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
COUNT="${1:-500000}"
SEED="${2:-42}"
TASK="${TASK:-aps}"
case "$TASK" in
  aps) GEN_FLAGS=() ;;
  daily) GEN_FLAGS=(--all-processed) ;;
  *) echo "TASK must be aps or daily" >&2; exit 2 ;;
esac
WORK="$(mktemp -d /tmp/aps-bench-XXXXXX)"
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bin data-tasks
  BIN=target/release/data-tasks
fi
start=$(date +%s.%N)
python3 testdata/aps/gen_dump.py --count "$COUNT" --seed "$SEED" --out "$WORK" "${GEN_FLAGS[@]}"
echo "generation took $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s; dump $(du -h "$WORK/www/georisques_data.tar.gz" | cut -f1)"

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$PORT" >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/')" 2>/dev/null && break
  sleep 0.1
done

export DATA_TASKS_STORAGE_MISC="file://$WORK/misc" DATA_TASKS_STORAGE_AP="file://$WORK/ap"
export DATA_TASKS_SOURCES_GEORISQUES_DUMP="http://127.0.0.1:$PORT/georisques_data.tar.gz"
export SLACK_WEBHOOK_URL=""
export DATA_TASKS_SOURCES_AP_PDF_BASE="http://127.0.0.1:$PORT/commun/"
/usr/bin/time -v "$BIN" "$TASK" > "$WORK/stdout" 2> "$WORK/time" || { cat "$WORK/time"; exit 1; }
tail -n 12 "$WORK/stdout"
grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time" "$WORK/time"
wc -l "$WORK"/misc/*.csv | sed 's|'"$WORK"'/misc/||'
