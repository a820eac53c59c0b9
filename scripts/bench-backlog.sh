#!/usr/bin/env bash
# Backlog benchmark: `data-tasks ocr` vs OCRmyPDF 17 on N scanned-like AP PDFs, for several
# worker counts. Writes a small record under bench/runs/<YYYY-MM-DD>-<hostname>/ (raw.csv,
# summary.md, scaling.png); see bench/README.md.
#
#   scripts/bench-backlog.sh [--docs N] [--jobs "1 2"] [--cer-sample K] [--tools "data-tasks ocrmypdf"]
#
# --tools data-tasks skips the reference (used for the memory records: peak RSS at N = 200 vs 2,000).
# The backlog (seeded, 1–4 pages per document, pages drawn from the scanned fixtures of
# testdata/ocr/fixtures, ground truth from their .txt) is built under target/bench-backlog/N/
# and served by a local HTTP origin; `data-tasks ocr` downloads it and stores into a fresh
# s3://misc/bench-<date>-... prefix of a loopback SeaweedFS. OCRmyPDF runs like a user's loop:
# one `ocrmypdf -l fra --jobs J --output-type pdf --skip-text IN OUT` per file, sequentially.
# Every process runs with OMP_THREAD_LIMIT=1. Work files stay under target/bench-backlog/.
set -euo pipefail

OCRMYPDF_VERSION="17.13.0"
MATPLOTLIB_VERSION="3.9.2"
docs=200; jobs_list="1 2"; cer_sample=8; tools="data-tasks ocrmypdf"
while [ $# -gt 0 ]; do
  case "$1" in
    --docs) docs="$2"; shift 2 ;;
    --jobs) jobs_list="$2"; shift 2 ;;
    --cer-sample) cer_sample="$2"; shift 2 ;;
    --tools) tools="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
log() { printf '[bench-backlog] %s\n' "$*" >&2; }
for t in qpdf pdftotext curl /usr/bin/time; do
  command -v "$t" >/dev/null || { log "$t missing: run scripts/install-deps.sh"; exit 2; }
done

day="$(date -u +%Y-%m-%d)"; stamp="$(date -u +%Y%m%d-%H%M%S)"
host="$(hostname -s 2>/dev/null || hostname)"
work="$root/target/bench-backlog/$docs"
record="$root/bench/runs/$day-$host-n$docs"
mkdir -p "$work" "$record"

# --- binary ---------------------------------------------------------------------------------------
log "building target/release/data-tasks"
cargo build --release --quiet --bin data-tasks
bin="$root/target/release/data-tasks"

# --- backlog ----------------------------------------------------------------------------------------
# Page pool: every scanned page of the fixtures, with its ground-truth page text.
if [ "$(cat "$work/.done" 2>/dev/null)" != "v1 $docs" ]; then
  log "generating $docs documents into $work"
  rm -rf "$work/origin" "$work/truth" "$work/ids.json" "$work/.done"
  python3 - "$docs" "$work" "$root/testdata/ocr/fixtures" <<'PY'
import json, os, random, subprocess, sys
n, work, fx = int(sys.argv[1]), sys.argv[2], sys.argv[3]
# (fixture, 1-based page): scanned pages only (page 1 of `mixed` is born-digital).
pool = [("scan_arrete", 1), ("scan_arrete", 2), ("two_columns", 1), ("sideways_scan", 1),
        ("upside_down_scan", 1), ("rotate_attr", 1), ("mixed", 2)]
truth = {}
for name in {f for f, _ in pool}:
    truth[name] = open(os.path.join(fx, name + ".txt"), encoding="utf-8").read().split("\f")
rng = random.Random(20261123)
ids, manifest = [], []
for i in range(n):
    pages = [rng.choice(pool) for _ in range(rng.randint(1, 4))]
    ident = f"Q/{i % 16:x}/{0xbac000 + i:032x}"
    out = os.path.join(work, "origin", "commun", ident + ".pdf")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    args = ["qpdf", "--empty", "--pages"]
    for f, p in pages:
        args += [os.path.join(fx, f + ".pdf"), str(p)]
    subprocess.run(args + ["--", out], check=True)
    t = os.path.join(work, "truth", ident.replace("/", "_") + ".txt")
    os.makedirs(os.path.dirname(t), exist_ok=True)
    with open(t, "w", encoding="utf-8") as fh:
        fh.write("\f".join(truth[f][p - 1] for f, p in pages))
    ids.append(ident)
    manifest.append((ident, len(pages)))
json.dump(ids, open(os.path.join(work, "ids.json"), "w"))
with open(os.path.join(work, "manifest.tsv"), "w") as fh:
    fh.writelines(f"{i}\t{p}\n" for i, p in manifest)
PY
  echo "v1 $docs" > "$work/.done"
fi
pages_total="$(awk -F'\t' '{s += $2} END {print s}' "$work/manifest.tsv")"
log "$docs documents, $pages_total pages"
# CER sample: the first K documents (seeded order, so the same ones every run).
head -n "$cer_sample" "$work/manifest.tsv" | cut -f1 > "$work/sample.txt"

# --- CER helper --------------------------------------------------------------------------------------
# cer DIR: DIR holds <id with / → _>.pdf outputs for the sample; prints the CER in % (whitespace
# collapsed, page by page against the ground truth), or n/a.
cer() {
  python3 - "$1" "$work/truth" "$work/sample.txt" <<'PY'
import os, re, subprocess, sys
out, truth_dir, sample = sys.argv[1:4]
def norm(t): return re.sub(r"\s+", " ", t).strip()
def lev(a, b):  # Myers/Hyyrö bit-parallel Levenshtein distance
    if not a: return len(b)
    if not b: return len(a)
    m = len(a); mask = (1 << m) - 1; hb = 1 << (m - 1)
    peq = {}
    for i, c in enumerate(a): peq[c] = peq.get(c, 0) | (1 << i)
    pv, mv, score = mask, 0, m
    for c in b:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & hb: score += 1
        elif mh & hb: score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score
errors = chars = 0
for ident in open(sample).read().split():
    flat = ident.replace("/", "_")
    tp = os.path.join(truth_dir, flat + ".txt")
    if not os.path.exists(tp): print("n/a"); sys.exit()
    want = [norm(p) for p in open(tp, encoding="utf-8").read().split("\f")]
    pdf = os.path.join(out, flat + ".pdf")
    got = []
    if os.path.exists(pdf):
        # -raw: content-stream order. The default layout analysis scrambles turned pages and
        # two-column pages of both tools' text layers alike.
        r = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", pdf, "-"], capture_output=True)
        got = [norm(p) for p in r.stdout.decode("utf-8", "replace").split("\f")]
    if len(got) == len(want) + 1 and not got[-1]: got = got[:-1]
    if len(got) != len(want): got = [g for g in got if g]
    got += [""] * (len(want) - len(got))
    errors += sum(lev(g, w) for g, w in zip(got, want))
    chars += sum(len(w) for w in want)
print(f"{100 * errors / chars:.2f}" if chars else "n/a")
PY
}

# --- origin + SeaweedFS ---------------------------------------------------------------------------------
server=""; weed_dir=""
cleanup() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  [ -n "$weed_dir" ] && "$root/scripts/seaweedfs.sh" stop "$weed_dir" || true
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/origin" >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

s3_port="${SEAWEEDFS_S3_PORT:-8333}"
if curl -s "http://127.0.0.1:$s3_port/misc?list-type=2" 2>/dev/null | grep -q ListBucketResult; then
  # A loopback SeaweedFS (scripts/seaweedfs.sh, test credentials) already runs: reuse it with a
  # fresh prefix rather than fight over its fixed ports.
  log "reusing the SeaweedFS already serving 127.0.0.1:$s3_port"
  export AWS_ENDPOINT="http://127.0.0.1:$s3_port" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=dt-test-access-key AWS_SECRET_ACCESS_KEY=dt-test-secret-key
else
  log "starting SeaweedFS"
  rm -rf "$work/seaweedfs"; mkdir -p "$work/seaweedfs"
  env_lines="$("$root/scripts/seaweedfs.sh" start "$work/seaweedfs")"
  weed_dir="$work/seaweedfs"
  eval "$env_lines"
fi
s3_get() { # KEY (in bucket misc) FILE
  curl -sf --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -o "$2" "$AWS_ENDPOINT/misc/$1"
}

# time_fields FILE → "wall cpu rss_mb" from `/usr/bin/time -f '%e %U %S %M'`
time_fields() { awk 'END {printf "%.2f %.2f %.0f", $1, $2 + $3, $4 / 1024}' "$1"; }

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
csv="$work/raw.csv"
echo "tool,jobs,docs,pages,wall_s,cpu_s,peak_rss_mb,errors,cer" > "$csv"

# --- data-tasks ocr ---------------------------------------------------------------------------------------
want() { case " $tools " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
for j in $jobs_list; do
  want data-tasks || break
  prefix="bench-$stamp-n$docs-j$j"
  log "data-tasks ocr --jobs $j → s3://misc/$prefix"
  DATA_TASKS_STORAGE_AP="s3://misc/$prefix" DATA_TASKS_STORAGE_MISC="file://$work/misc" \
  DATA_TASKS_SOURCES_AP_PDF_BASE="http://127.0.0.1:$port/commun/" \
    /usr/bin/time -f '%e %U %S %M' -o "$work/ours-j$j.time" \
    "$bin" -q ocr --ids "$work/ids.json" --jobs "$j" > "$work/ours-j$j.out" 2> "$work/ours-j$j.err" \
    || log "data-tasks ocr --jobs $j exited non-zero (see $work/ours-j$j.err)"
  tail -n1 "$work/ours-j$j.out" >&2
  read -r wall cpu rss <<< "$(time_fields "$work/ours-j$j.time")"
  line="$(tail -n1 "$work/ours-j$j.out")"
  stored="$(grep -o '^ocr: [0-9]*' <<< "$line" | grep -o '[0-9]*$' || echo 0)"
  already="$(grep -o '([0-9]* already' <<< "$line" | grep -o '[0-9]*' || echo 0)"
  errs="$(grep -o '[0-9]* error records' <<< "$line" | cut -d' ' -f1 || echo 0)"
  transient="$(grep -o '[0-9]* transient' <<< "$line" | cut -d' ' -f1 || echo 0)"
  # Documents neither stored nor recorded as errors count as errors too.
  errors=$(( ${errs:-0} + ${transient:-0} ))
  missing=$(( docs - ${stored:-0} - ${errs:-0} - ${transient:-0} ))
  [ "$missing" -gt 0 ] && errors=$(( errors + missing ))
  : "$already"
  rm -rf "$work/ours-j$j"; mkdir -p "$work/ours-j$j"
  while read -r id; do s3_get "$prefix/$id.pdf" "$work/ours-j$j/${id//\//_}.pdf" || true; done < "$work/sample.txt"
  c="$(cer "$work/ours-j$j")"
  echo "data-tasks,$j,$docs,$pages_total,$wall,$cpu,$rss,$errors,$c" >> "$csv"
done

# --- OCRmyPDF ------------------------------------------------------------------------------------------------
omp_py=""
want ocrmypdf && for v in "$deps/ocrmypdf-venv" "$root/target/bench-backlog/ocrmypdf-venv"; do
  if [ "$("$v/bin/python" -m ocrmypdf --version 2>/dev/null)" = "$OCRMYPDF_VERSION" ]; then omp_py="$v/bin/python"; break; fi
done
if want ocrmypdf && [ -z "$omp_py" ]; then
  v="$deps/ocrmypdf-venv"
  log "installing ocrmypdf==$OCRMYPDF_VERSION into $v"
  { python3 -m venv "$v" && timeout 900 "$v/bin/pip" install -q --timeout 30 "ocrmypdf==$OCRMYPDF_VERSION"; } > "$work/ocrmypdf-install.log" 2>&1 || true
  [ "$("$v/bin/python" -m ocrmypdf --version 2>/dev/null)" = "$OCRMYPDF_VERSION" ] && omp_py="$v/bin/python"
fi
cat > "$work/ocrmypdf-loop.sh" <<'SH'
# ocrmypdf-loop.sh PYTHON JOBS ORIGIN OUTDIR IDS_FILE: one ocrmypdf per file, sequentially; prints
# the number of failed files last.
py="$1"; j="$2"; origin="$3"; out="$4"; fails=0
while read -r id; do
  "$py" -m ocrmypdf -q -l fra --jobs "$j" --output-type pdf --skip-text \
    "$origin/$id.pdf" "$out/${id//\//_}.pdf" 2>>"$out.err" || fails=$((fails + 1))
done < "$5"
echo "$fails"
SH
python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))))' "$work/ids.json" > "$work/ids.txt"
for j in $jobs_list; do
  want ocrmypdf || break
  if [ -z "$omp_py" ]; then
    log "OCRmyPDF $OCRMYPDF_VERSION unavailable (see $work/ocrmypdf-install.log)"
    echo "ocrmypdf,$j,$docs,$pages_total,,,,," >> "$csv"; continue
  fi
  log "ocrmypdf --jobs $j over $docs files"
  out="$work/ocrmypdf-j$j"; rm -rf "$out" "$out.err"; mkdir -p "$out"
  /usr/bin/time -f '%e %U %S %M' -o "$out.time" \
    bash "$work/ocrmypdf-loop.sh" "$omp_py" "$j" "$work/origin/commun" "$out" "$work/ids.txt" > "$out.fails"
  read -r wall cpu rss <<< "$(time_fields "$out.time")"
  c="$(cer "$out")"
  echo "ocrmypdf,$j,$docs,$pages_total,$wall,$cpu,$rss,$(tail -n1 "$out.fails"),$c" >> "$csv"
done

# --- record ----------------------------------------------------------------------------------------------------
cp "$csv" "$record/raw.csv"
cores="$(env -u OMP_THREAD_LIMIT -u OMP_NUM_THREADS nproc)"  # GNU nproc honours OMP_THREAD_LIMIT
cpu_model="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
if ! want ocrmypdf; then omp_ver="not run (--tools)"
elif [ -n "$omp_py" ]; then omp_ver="$OCRMYPDF_VERSION"
else omp_ver=unavailable; fi
python3 - "$record/raw.csv" "$record/summary.md" "$cores" "$cpu_model" "$day" "$docs" "$pages_total" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo ?)" "$(tesseract --version 2>&1 | head -n1)" "$omp_ver" \
  "$cer_sample" "$(uname -sr)" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import csv, sys
raw, md, nproc, cpu, day, docs, pages, rev, tess, ompv, sample, kernel, l0, l1 = sys.argv[1:15]
rows = list(csv.DictReader(open(raw)))
def f(x):
    try: return float(x)
    except ValueError: return None
pps = {(r["tool"], r["jobs"]): (int(r["pages"]) / f(r["wall_s"]) if f(r["wall_s"]) else None) for r in rows}
out = [f"# Backlog benchmark, {day}", "",
       f"- machine: {nproc} cores (`nproc`), {cpu}, {kernel}; load average {l0} at the start, {l1} at the end",
       f"- backlog: N = {docs} scanned-like AP PDFs, {pages} pages (1–4 pages each, seeded)",
       f"- data-tasks @ {rev} (download from a loopback HTTP origin, store into loopback SeaweedFS); "
       f"OCRmyPDF {ompv} (`-l fra --jobs J --output-type pdf --skip-text`, one file after the other)",
       f"- {tess}, OMP_THREAD_LIMIT=1; CER on the first {sample} documents vs ground truth (`pdftotext -raw`)", "",
       "| tool | workers (J) | documents/s | pages/s | CPU-s/page | peak RSS (MB) | errors | CER (%) | pages/s vs OCRmyPDF at same J |",
       "|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    w, c = f(r["wall_s"]), f(r["cpu_s"])
    if not w:
        out.append(f"| {r['tool']} | {r['jobs']} | n/a | n/a | n/a | n/a | n/a | n/a | |"); continue
    ratio = ""
    if r["tool"] == "data-tasks":
        o = pps.get(("ocrmypdf", r["jobs"]))
        ratio = f"{pps[(r['tool'], r['jobs'])] / o:.2f}×" if o else "n/a"
    out.append(f"| {r['tool']} | {r['jobs']} | {int(r['docs']) / w:.3f} | {int(r['pages']) / w:.3f} | "
               f"{c / int(r['pages']):.2f} | {r['peak_rss_mb']} | {r['errors']} | {r['cer'] or 'n/a'} | {ratio} |")
out += ["", "Raw numbers: `raw.csv` (see `bench/README.md`). Reproduce: "
        f"`scripts/bench-backlog.sh --docs {docs} --jobs \"{' '.join(sorted({r['jobs'] for r in rows}, key=int))}\"`"]
open(md, "w").write("\n".join(out) + "\n")
PY

venv="$deps/bench-venv"
if ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  log "installing matplotlib==$MATPLOTLIB_VERSION into $venv"
  { python3 -m venv "$venv" && timeout 600 "$venv/bin/pip" install -q --timeout 30 "matplotlib==$MATPLOTLIB_VERSION"; } > "$work/matplotlib-install.log" 2>&1 || true
fi
if "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  "$venv/bin/python" - "$record/raw.csv" "$record/scaling.png" "$docs" "$pages_total" "$cores" <<'PY'
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
raw, png, docs, pages, nproc = sys.argv[1:6]
rows = [r for r in csv.DictReader(open(raw)) if r["wall_s"]]
fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
for tool, style in (("data-tasks", "o-"), ("ocrmypdf", "s--")):
    pts = sorted((int(r["jobs"]), int(r["pages"]) / float(r["wall_s"])) for r in rows if r["tool"] == tool)
    if pts: ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=tool)
ax.set_xlabel("workers (--jobs)"); ax.set_ylabel("pages/s")
ax.set_xticks(sorted({int(r["jobs"]) for r in rows}))
ax.set_ylim(bottom=0); ax.grid(alpha=.3); ax.legend()
ax.set_title(f"{docs} docs / {pages} pages, {nproc} cores", fontsize=10)
fig.tight_layout(); fig.savefig(png)
PY
else
  log "matplotlib unavailable (see $work/matplotlib-install.log): no scaling.png"
  rm -f "$record/scaling.png"
fi

log "record written to ${record#"$root/"}"
cat "$record/summary.md"
