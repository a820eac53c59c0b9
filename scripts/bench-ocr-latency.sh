#!/usr/bin/env bash
# Benchmark: does network latency idle the cores? Runs `data-tasks ocr` on N generated scanned APs
# (default 50, two pages each) served by a local HTTP origin, once with no added latency and once
# with DELAY ms added to every request (default 300), and prints documents/s and pages/s of both.
# Target: the latency run within 10% of the other (downloads run ahead of the OCR).
#   scripts/bench-ocr-latency.sh [N] [DELAY_MS] [JOBS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
n="${1:-50}"; delay="${2:-300}"; jobs="${3:-0}"
cargo build --release --quiet --bin data-tasks
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$n" "$work" testdata/ocr/fixtures/scan_arrete.pdf <<'PY'
import json, os, shutil, sys
n, work, scan = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ids = [f"Q/{i % 16:x}/{0xbe0000 + i:032x}" for i in range(n)]
for i in ids:
    p = os.path.join(work, "origin", "commun", i + ".pdf")
    os.makedirs(os.path.dirname(p), exist_ok=True)
    shutil.copy(scan, p)
json.dump(ids, open(os.path.join(work, "ids.json"), "w"))
PY
cat > "$work/serve.py" <<'PY'
import functools, http.server, sys, time
class Slow(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        time.sleep(int(sys.argv[2]) / 1000)
        super().do_GET()
    def log_message(self, *a):
        pass
handler = functools.partial(Slow, directory=sys.argv[3])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
PY
printf '%-12s %8s %8s %10s %12s %12s\n' delay_ms docs wall_s docs_per_s pages_per_s peak_rss_mb
for d in 0 "$delay"; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 "$work/serve.py" "$port" "$d" "$work/origin" &
  server=$!
  for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  rm -rf "$work/ap"
  DATA_TASKS_STORAGE_AP="file://$work/ap" DATA_TASKS_STORAGE_MISC="file://$work/misc" \
  DATA_TASKS_SOURCES_AP_PDF_BASE="http://127.0.0.1:$port/commun/" \
    /usr/bin/time -f '%e %M' -o "$work/time" target/release/data-tasks -q ocr --ids "$work/ids.json" --jobs "$jobs" > "$work/out"
  kill "$server"; wait "$server" 2>/dev/null || true
  read -r wall rss < "$work/time"
  pages=$(grep -o '[0-9]* pages in' "$work/out" | cut -d' ' -f1)
  awk -v d="$d" -v n="$n" -v w="$wall" -v p="$pages" -v r="$rss" \
    'BEGIN { printf "%-12s %8d %8.1f %10.3f %12.3f %12d\n", d, n, w, n / w, p / w, r / 1024 }'
done
