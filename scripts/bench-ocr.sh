#!/usr/bin/env bash
# Benchmarks the OCR engine against the tesseract CLI and OCRmyPDF on a generated corpus.
#
#   scripts/bench-ocr.sh [PAGES]     (default 24 pages, 300 dpi scanned arrêtés)
#
# Prints one table: pages/s, CPU-s/page, peak RSS (GNU time) and CER vs the ground truth for
#   (a) examples/ocr_file at --jobs 1 and --jobs 2,
#   (b) tesseract CLI on pdftoppm 300-dpi gray PNGs, 2 processes (recognition-only bound),
#   (c) OCRmyPDF 17 (pinned, installed into .deps/ocrmypdf-venv) with --jobs 2.
# Every process runs with OMP_THREAD_LIMIT=1 (Debian's libtesseract uses OpenMP).
set -euo pipefail

OCRMYPDF_VERSION="17.13.0"
PAGES="${1:-24}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
work="$root/testdata/ocr/bench"
corpus="$work/corpus"
log() { printf '[bench-ocr] %s\n' "$*" >&2; }

command -v /usr/bin/time >/dev/null || { log "GNU time missing: run scripts/install-deps.sh"; exit 2; }

# --- corpus -----------------------------------------------------------------------------------
if [ "$(cat "$work/.pages" 2>/dev/null)" != "$PAGES" ]; then
  log "generating $PAGES pages into $corpus"
  rm -rf "$corpus"; mkdir -p "$corpus"
  "$deps/venv/bin/python" "$root/testdata/ocr/gen_fixtures.py" bench "$corpus" "$PAGES"
  echo "$PAGES" > "$work/.pages"
fi
join_ff() { local first=1; for f in "$@"; do [ $first = 1 ] || printf '\f'; first=0; cat "$f"; done; }
join_ff "$corpus"/arrete_*.txt > "$work/truth.txt"

# --- binaries ---------------------------------------------------------------------------------
log "building examples/ocr_file (release)"
(cd "$root" && cargo build -q --release -p ocr --example ocr_file)
ocr_file="$root/target/release/examples/ocr_file"

# timed NAME CMD...: runs CMD under GNU time, records wall, cpu, rss (KiB).
timed() {
  local name="$1"; shift
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 || { log "$name failed (see $work/$name.log)"; return 1; }
}
field() { grep -F "$2" "$work/$1.time" | awk -F': ' '{print $2}'; }

cer() { "$deps/venv/bin/python" - "$1" "$work/truth.txt" <<'PY'
# Character error rate, page by page (pages separated by form feeds), whitespace collapsed.
import re, sys
def pages(p):
    return [re.sub(r"\s+", " ", t).strip() for t in open(p, encoding="utf-8", errors="replace").read().split("\f")]
def lev(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
got, want = pages(sys.argv[1]), pages(sys.argv[2])
got = [g for g in got if g] if len(got) != len(want) else got
got += [""] * (len(want) - len(got))
errors = sum(lev(g, w) for g, w in zip(got, want))
print(f"{100 * errors / max(1, sum(len(w) for w in want)):.2f}%")
PY
}

rows=()
row() { # name label textfile
  local name="$1" label="$2" text="$3"
  local wall user sys rss
  wall="$(field "$name" 'Elapsed (wall clock) time')"
  user="$(field "$name" 'User time (seconds)')"; sys="$(field "$name" 'System time (seconds)')"
  rss="$(field "$name" 'Maximum resident set size (kbytes)')"
  local secs; secs="$(python3 -c "t='$wall'.split(':'); print(sum(float(x)*60**i for i,x in enumerate(reversed(t))))")"
  rows+=("$(python3 -c "print(f'| $label | {$PAGES/$secs:.2f} | {($user+$sys)/$PAGES:.2f} | {$rss/1024:.0f} | $(cer "$text") |')")")
}

# --- (a) our engine -----------------------------------------------------------------------------
for j in 1 2; do
  rm -rf "$work/out-j$j"; mkdir -p "$work/out-j$j"
  log "ocr_file --jobs $j"
  timed "engine-j$j" "$ocr_file" "$corpus" "$work/out-j$j" --jobs "$j" --sidecar x
  join_ff "$work/out-j$j"/arrete_*.txt > "$work/engine-j$j.txt"
  row "engine-j$j" "data-tasks ocr engine, jobs $j" "$work/engine-j$j.txt"
done

# --- (b) tesseract CLI on pre-rendered pages ------------------------------------------------------
log "tesseract CLI, 2 processes"
rm -rf "$work/png"; mkdir -p "$work/png"
for f in "$corpus"/arrete_*.pdf; do pdftoppm -r 300 -gray -png "$f" "$work/png/$(basename "$f" .pdf)"; done
timed tesseract-cli bash -c "ls '$work/png'/*.png | xargs -P2 -I{} sh -c 'tesseract {} \${0%.png} -l fra --psm 3 txt' {} 2>/dev/null"
# xargs passes the file as $0 above; rebuild the text in page order.
join_ff $(ls "$work/png"/*.txt | sort) > "$work/tesseract-cli.txt"
row tesseract-cli "tesseract CLI on 300-dpi PNGs (2 procs, no render/PDF)" "$work/tesseract-cli.txt"

# --- (c) OCRmyPDF --------------------------------------------------------------------------------
omp_venv="$deps/ocrmypdf-venv"
if [ ! -x "$omp_venv/bin/ocrmypdf" ]; then
  log "installing ocrmypdf==$OCRMYPDF_VERSION into $omp_venv"
  { python3 -m venv "$omp_venv" && timeout 900 "$omp_venv/bin/pip" install -q --timeout 30 "ocrmypdf==$OCRMYPDF_VERSION"; } >"$work/ocrmypdf-install.log" 2>&1 || true
fi
if [ -x "$omp_venv/bin/ocrmypdf" ]; then
  rm -rf "$work/out-ocrmypdf"; mkdir -p "$work/out-ocrmypdf"
  log "ocrmypdf --jobs 2"
  timed ocrmypdf bash -c "for f in '$corpus'/arrete_*.pdf; do '$omp_venv/bin/ocrmypdf' -q -l fra --jobs 2 --output-type pdf --sidecar '$work/out-ocrmypdf/'\$(basename \$f .pdf).txt \$f '$work/out-ocrmypdf/'\$(basename \$f) || exit 1; done" \
    && { join_ff "$work/out-ocrmypdf"/arrete_*.txt > "$work/ocrmypdf.txt"; row ocrmypdf "OCRmyPDF $OCRMYPDF_VERSION, --jobs 2" "$work/ocrmypdf.txt"; } \
    || rows+=("| OCRmyPDF $OCRMYPDF_VERSION, --jobs 2 | failed (see $work/ocrmypdf.log) | | | |")
else
  rows+=("| OCRmyPDF $OCRMYPDF_VERSION | unavailable (install failed, see $work/ocrmypdf-install.log) | | | |")
fi

echo
echo "$PAGES pages (A4, 300 dpi, generated arrêtés), $(getconf _NPROCESSORS_ONLN) cores, load average $(cut -d" " -f1-3 /proc/loadavg) at the end, $(date -u +%Y-%m-%d)"
echo
echo "| run | pages/s | CPU-s/page | peak RSS (MB) | CER |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
