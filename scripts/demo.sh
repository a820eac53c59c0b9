#!/usr/bin/env bash
# Runs data-tasks offline, end to end, on the bundled sample sources (testdata/golden: a synthetic
# S3IC extraction, a Géorisques dump and the ap bucket's listing) with file:// storage under
# ./data/demo:
#   1. `installations`: S3IC extraction → installations_*.csv, classements_*.csv;
#   2. `daily`: aps → ocr → aps and the French report. A local HTTP server (python3 http.server on
#      127.0.0.1) stands in for Géorisques (the dump) and the AP origin (five generated scanned
#      arrêtés; the other new ids answer 404 and get error records).
# Then prints where the outputs are and their row counts. Installs what is missing first
# (scripts/install-deps.sh, idempotent; SKIP_INSTALL=1 skips it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
install_deps
if [ ! -x "$root/target/release/data-tasks" ]; then
  echo "== building data-tasks (release); the first build takes about 9 minutes on 2 cores"
fi
cargo build --release --bin data-tasks
bin="$root/target/release/data-tasks"
demo="$root/data/demo"
rm -rf "$demo"
mkdir -p "$demo/origin/dump" "$demo/origin/commun"
export DATA_TASKS_STORAGE_MISC="file://$demo/misc"
export DATA_TASKS_STORAGE_AP="file://$demo/ap"
export DATA_TASKS_STORAGE_AM="file://$demo/am"
src="$root/testdata/golden/sources"

echo "== data-tasks installations (S3IC extraction → installations_*.csv, classements_*.csv)"
"$bin" installations --s3ic "$src/s3ic-liste-etablissements.csv.gz" --rubriques "$src/sic-liste-rubriques.csv.gz"

echo
echo "== preparing the offline origin: dump, yesterday's aps_all.csv, ap bucket, 5 scanned APs"
cp "$src/georisques_data.tar.gz" "$demo/origin/dump/"
gunzip -c "$src/previous_aps_all.csv.gz" > "$demo/misc/aps_all.csv"
python3 - "$src" "$demo" "$root/testdata/ocr/fixtures/scan_arrete.pdf" <<'PY'
import csv, gzip, os, shutil, sys
src, demo, scan = sys.argv[1:4]
listed = set()
with gzip.open(os.path.join(src, "ap_bucket_listing.csv.gz"), "rt") as f:
    for row in csv.DictReader(f):
        path = os.path.join(demo, "ap", row["name"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.truncate(int(row["bytes"]))
        listed.add(row["name"].split(".")[0])
import json
with gzip.open(os.path.join(src, "..", "expected", "georisques_ids.json.gz"), "rt") as f:
    new = [i for i in json.load(f) if i not in listed]
for gid in new[:5]:
    path = os.path.join(demo, "origin", "commun", gid + ".pdf")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy(scan, path)
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$demo/origin" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
export DATA_TASKS_SOURCES_GEORISQUES_DUMP="http://127.0.0.1:$port/dump/georisques_data.tar.gz"
export DATA_TASKS_SOURCES_AP_PDF_BASE="http://127.0.0.1:$port/commun/"
export DATA_TASKS_HTTP_RETRIES=0
unset SLACK_WEBHOOK_URL

listed=$(( $(gunzip -c "$src/ap_bucket_listing.csv.gz" | wc -l) - 1 ))
echo
echo "== data-tasks daily (aps → ocr → aps, then the report; no Slack URL: printed only)"
echo "   The report counts every AP, not only today's five PDFs: its statuses come from the bundled"
echo "   ap bucket listing ($listed objects, testdata/golden/sources/ap_bucket_listing.csv.gz) and"
echo "   yesterday's aps_all.csv (testdata/golden/sources/previous_aps_all.csv.gz)."
"$bin" -q daily --jobs 0

echo
echo "== outputs in $demo/misc"
for f in "$demo"/misc/*.csv; do
  printf '  %-28s %8d rows\n' "$(basename "$f")" "$(( $(wc -l < "$f") - 1 ))"
done
echo "  georisques_ids.json          $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$demo/misc/georisques_ids.json") ids"
echo "== searchable PDFs written by today's OCR (others got error records: 404 at the origin):"
(cd "$demo/origin/commun" && find . -name '*.pdf' | sed 's|^\./||') | while read -r f; do
  printf '  %s (%s bytes)\n' "$demo/ap/$f" "$(stat -c %s "$demo/ap/$f")"
done
