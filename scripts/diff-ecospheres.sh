#!/usr/bin/env bash
# Differential check of `data-tasks ecospheres` against the original ETL
# (github.com/ecolabdata/ecospheres-metadata, not on PyPI: check it out yourself, outside this
# repository, and pass its folder):
#
#   scripts/diff-ecospheres.sh ORIGINAL_DIR [--datasets N] [--seed S] [--keep]
#
# 1. makes the venv .deps/ecospheres-venv with the original's pinned requirements (rdflib 7.0.0,
#    pandas, unidecode, s3fs, SQLAlchemy, psycopg2, python-dotenv; idempotent, bounded pip calls);
# 2. generates a catalogue (testdata/ecospheres/gen_catalog.py, N datasets, 100 a page, seeded)
#    and uploads it to a loopback SeaweedFS as the original expects it:
#    s3://projet-ecolab-action-qualite/DUMP_INTEGRATION_JSON/page-*.json;
# 3. starts a throwaway PostgreSQL and runs the original unchanged — `python extract.py`,
#    `transform.py`, `load.py` from ORIGINAL_DIR/src, with its own environment variables
#    (S3_ENDPOINT_URL, ACCESS_KEY, SECRET_KEY, BUCKET_NAME, POSTGRES_*) — into database eco_orig;
# 4. runs `data-tasks ecospheres` with the very same legacy variables into database eco_ours;
# 5. compares every column of every dataset (scripts/diff-ecospheres.py): each difference must be
#    a deliberate change of docs/syncs/ecospheres.md §7, named in the output; anything else fails (exit 1);
# 6. shows the three inputs the original crashes on (§3a) — an unknown adms:status code, a
#    dataset without title, a contact without catalog/ — run by both.
# BIN=… runs another data-tasks binary (default: target/release/data-tasks, built if missing).
# Needs curl (S3 uploads with --aws-sigv4), python3, the PostgreSQL server binaries
# (scripts/install-deps.sh) and .deps/venv/bin/weed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

orig="${1:?usage: scripts/diff-ecospheres.sh ORIGINAL_DIR [--datasets N] [--seed S] [--keep]}"
shift
datasets=3000 seed=7 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --datasets) datasets="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
orig="$(cd "$orig" && pwd)"
for f in extract.py transform.py load.py dcat_reader_ckan.py; do
  [ -f "$orig/src/$f" ] || { echo "$orig/src/$f not found: pass the ecospheres-metadata checkout" >&2; exit 2; }
done
log() { printf '[diff-ecospheres] %s\n' "$*" >&2; }

# --- the original's venv ---------------------------------------------------------------------
venv="$deps/ecospheres-venv"
reqs=("rdflib==7.0.0" "pandas==2.1.4" "numpy==1.26.4" "Unidecode==1.3.7" "s3fs==2023.10.0"
      "SQLAlchemy==2.0.23" "psycopg2-binary==2.9.9" "python-dotenv==1.0.0")
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${reqs[*]}" ]; then
  log "creating $venv (${reqs[*]})"
  python3 -m venv "$venv"
  ok=0
  for attempt in 1 2 3; do
    if timeout 600 "$venv/bin/pip" install -q --timeout 30 "${reqs[@]}"; then ok=1; break; fi
    log "pip install failed (attempt $attempt/3)"
  done
  [ "$ok" = 1 ] || exit 1
  echo "${reqs[*]}" > "$stamp"
fi
py="$venv/bin/python"

bin="${BIN:-$root/target/release/data-tasks}"
if [ -z "${BIN:-}" ]; then
  log "building $bin"
  cargo build --release --quiet --bin data-tasks
fi
[ -x target/debug/throwaway-pg ] || cargo build --quiet -p testkit --bin throwaway-pg

work="$(mktemp -d /tmp/diff-ecospheres.XXXXXX)"
chmod 755 "$work"
port="${SEAWEEDFS_S3_PORT:-8339}"
cleanup() {
  scripts/seaweedfs.sh stop "$work/seaweedfs" || true
  [ -d "$work/pg" ] && { target/debug/throwaway-pg stop "$work/pg" >/dev/null 2>&1 || true; }
  if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

log "generating $datasets datasets (seed $seed)"
python3 testdata/ecospheres/gen_catalog.py --datasets "$datasets" --seed "$seed" --out "$work/pages"

log "starting SeaweedFS on 127.0.0.1:$port and a throwaway PostgreSQL"
SEAWEEDFS_S3_PORT="$port" scripts/seaweedfs.sh start "$work/seaweedfs" >/dev/null
pg_url="$(target/debug/throwaway-pg start "$work/pg" | sed -n 's/^export TEST_DATABASE_URL=//p')"
pg_port="$(echo "$pg_url" | sed -E 's#.*:([0-9]+)/.*#\1#')"
s3="http://127.0.0.1:$port"
bucket=projet-ecolab-action-qualite
s3curl() { curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user test:test "$@"; }
upload() { # BUCKET DIR: every file of DIR under BUCKET/DUMP_INTEGRATION_JSON/
  s3curl -X PUT "$s3/$1" >/dev/null || true
  for f in "$2"/*.json; do s3curl -T "$f" "$s3/$1/DUMP_INTEGRATION_JSON/$(basename "$f")" >/dev/null; done
}
upload "$bucket" "$work/pages"
for db in eco_orig eco_ours; do psql "$pg_url" -XAtqc "CREATE DATABASE $db"; done

legacy() { # DB: the original's variables
  echo S3_ENDPOINT_URL="$s3" ACCESS_KEY=test SECRET_KEY=test BUCKET_NAME="${BUCKET:-$bucket}" \
    POSTGRES_USER=postgres POSTGRES_PASSWORD=unused POSTGRES_URL=127.0.0.1 POSTGRES_PORT="$pg_port" POSTGRES_DB="$1"
}
run_original() { # DIR DB: extract, transform, load from DIR (where its CSVs go)
  mkdir -p "$1"
  (cd "$1" && for step in extract transform load; do
     env $(legacy "$2") "$py" "$orig/src/$step.py" || { echo "$step"; return 1; }
   done) > "$1/out.log" 2>&1
}

log "running the original (extract.py, transform.py, load.py)"
t0=$(date +%s.%N)
run_original "$work/orig" eco_orig || { tail -20 "$work/orig/out.log" >&2; exit 1; }
t1=$(date +%s.%N)
log "running data-tasks ecospheres with the same variables"
env -i PATH="$PATH" HOME="$HOME" $(legacy eco_ours) AWS_ALLOW_HTTP=true "$bin" -q ecospheres > "$work/ours.txt"
t2=$(date +%s.%N)
cat "$work/ours.txt"
printf 'original %.1f s, data-tasks %.1f s (same pages, same machine)\n' \
  "$(awk "BEGIN{print $t1 - $t0}")" "$(awk "BEGIN{print $t2 - $t1}")"

status=0
"$py" scripts/diff-ecospheres.py "postgresql://postgres@127.0.0.1:$pg_port/eco_orig" \
  "postgresql://postgres@127.0.0.1:$pg_port/eco_ours" "$work/pages" || status=$?

echo "== inputs the original crashes on (docs/syncs/ecospheres.md §7)"
first="$(ls "$work/pages" | head -1)"
for fault in status title contact; do
  mkdir -p "$work/fault-$fault"
  "$py" - "$work/pages/$first" "$work/fault-$fault/$first" "$fault" <<'PY'
import json, sys
src, dst, fault = sys.argv[1:4]
doc = json.load(open(src, encoding="utf-8"))
hydra = next(n for n in doc["@graph"] if "PagedCollection" in str(n.get("@type")))
hydra.pop("http://www.w3.org/ns/hydra/core#nextPage", None)
hydra["http://www.w3.org/ns/hydra/core#lastPage"] = hydra["@id"]
ds = next(n for n in doc["@graph"] if "dcat:Dataset" in (n["@type"] if isinstance(n["@type"], list) else [n["@type"]]))
if fault == "status":
    ds["http://www.w3.org/ns/adms#status"] = {"@id": "http://registre.data.developpement-durable.gouv.fr/plume/ISO19139ProgressCode/underDevelopment"}
elif fault == "title":
    for k in [k for k in ds if k.endswith("title")]:
        del ds[k]
else:
    contact = next(n for n in doc["@graph"] if any(k.endswith("hasEmail") for k in n))
    contact["http://www.w3.org/2006/vcard/ns#hasEmail"] = {"@id": "mailto:sig@example.org"}
    ds["dcat:contactPoint"] = {"@id": contact["@id"]}
json.dump(doc, open(dst, "w", encoding="utf-8"), ensure_ascii=False)
PY
  BUCKET="eco-fault-$fault" upload "eco-fault-$fault" "$work/fault-$fault"
  psql "$pg_url" -XAtqc "CREATE DATABASE fault_$fault"
  if BUCKET="eco-fault-$fault" run_original "$work/fault-$fault/orig" "fault_$fault"; then
    o="runs"
  else
    o="fails in $(grep -m1 -E '^(extract|transform|load)$' "$work/fault-$fault/orig/out.log" || echo '?').py: $(grep -E '^[A-Za-z]+Error' "$work/fault-$fault/orig/out.log" | tail -1)"
  fi
  set +e
  u="$(env -i PATH="$PATH" HOME="$HOME" $(BUCKET="eco-fault-$fault" legacy "fault_$fault") AWS_ALLOW_HTTP=true "$bin" -q ecospheres 2>&1)"
  rc=$?
  set -e
  printf '  %-8s original: %s\n           data-tasks: exit %d: %s\n' "$fault" "$o" "$rc" "$u"
done
exit "$status"
