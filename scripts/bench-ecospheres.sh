#!/usr/bin/env bash
# Benchmark of `data-tasks ecospheres`: a generated catalogue (default 250 000 datasets, 10× the
# real one, 100 a page) scored and loaded into PostgreSQL, and today's size (25 000) for the memory
# curve; side by side with the original ETL on the same pages in the same run when its checkout
# is given (extract.py + transform.py + load.py, unchanged, from the same S3 prefix).
#
#   scripts/bench-ecospheres.sh [--datasets N] [--small M] [--seed S] [--original DIR] [--no-s3]
#
# Every run is measured with GNU time (`/usr/bin/time -v`, Debian package `time`): wall, user +
# system CPU seconds, peak RSS. Ours runs twice on the big catalogue: from SeaweedFS (s3://, the
# production path; the S3 server runs on the same cores) and from a local folder (file://). The
# record goes to bench/ecospheres/<date>-<host>-n<N>.md. The generated pages are kept under
# target/bench-ecospheres/ (≈ 1 GB for 250 000 datasets) and reused by later runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

datasets=250000 small=25000 seed=42 original="" s3=1
while [ $# -gt 0 ]; do
  case "$1" in
    --datasets) datasets="$2"; shift 2 ;;
    --small) small="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --original) original="$(cd "$2" && pwd)"; shift 2 ;;
    --no-s3) s3=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 1; }
log() { printf '[bench-ecospheres] %s\n' "$*" >&2; }
if [ -n "$original" ] && [ "$s3" = 0 ]; then echo "--original needs S3 (it reads s3:// only)" >&2; exit 2; fi

cargo build --release --quiet --bin data-tasks
[ -x target/debug/throwaway-pg ] || cargo build --quiet -p testkit --bin throwaway-pg
bin="$root/target/release/data-tasks"

cache="$root/target/bench-ecospheres"
gen() { # N → folder of pages (generated once)
  local dir="$cache/n$1-s$seed"
  if [ ! -f "$dir/.done" ]; then
    log "generating $1 datasets (seed $seed) into $dir"
    rm -rf "$dir"
    python3 testdata/ecospheres/gen_catalog.py --datasets "$1" --seed "$seed" --out "$dir"
    touch "$dir/.done"
  fi
  echo "$dir"
}
big="$(gen "$datasets")"
little="$(gen "$small")"

work="$(mktemp -d /tmp/bench-ecospheres.XXXXXX)"
chmod 755 "$work"
port="${SEAWEEDFS_S3_PORT:-8338}"
cleanup() {
  [ "$s3" = 1 ] && { scripts/seaweedfs.sh stop "$work/seaweedfs" || true; }
  [ -d "$work/pg" ] && { target/debug/throwaway-pg stop "$work/pg" >/dev/null 2>&1 || true; }
  rm -rf "$work"
}
trap cleanup EXIT
pg_url="$(target/debug/throwaway-pg start "$work/pg" | sed -n 's/^export TEST_DATABASE_URL=//p')"
pg_port="$(echo "$pg_url" | sed -E 's#.*:([0-9]+)/.*#\1#')"
db_url() { echo "postgresql://postgres@127.0.0.1:$pg_port/$1"; }

s3url="http://127.0.0.1:$port"
bucket=projet-ecolab-action-qualite
if [ "$s3" = 1 ]; then
  SEAWEEDFS_S3_PORT="$port" scripts/seaweedfs.sh start "$work/seaweedfs" >/dev/null
  s3curl() { curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user test:test "$@"; }
  export -f s3curl
  s3curl -X PUT "$s3url/$bucket" >/dev/null || true
  for n in "$datasets" "$small"; do
    dir="$(gen "$n")"
    log "uploading $(ls "$dir" | wc -l) pages of $n datasets to s3://$bucket/n$n/DUMP_INTEGRATION_JSON/"
    ls "$dir" | grep '\.json$' | S3=$s3url B=$bucket N=$n D=$dir xargs -P 4 -I{} \
      bash -c 's3curl -T "$D/{}" "$S3/$B/n$N/DUMP_INTEGRATION_JSON/{}" >/dev/null'
  done
fi

results="$work/results.csv"
echo "run,datasets,pages,wall_s,cpu_s,peak_rss_mib,rows" > "$results"
measure() { # NAME N DB CMD… : runs CMD under GNU time, appends a line to results
  local name="$1" n="$2" db="$3"; shift 3
  local f="$work/$(echo "$name" | tr -c 'A-Za-z0-9\n' '_')"
  psql "$pg_url" -XAtqc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  log "run $name"
  /usr/bin/time -v -o "$f.time" "$@" > "$f.out" 2> "$f.err" || { cat "$f.err" "$f.out" >&2; exit 1; }
  local wall user sys rss rows pages
  wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$f.time" \
          | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')"
  user="$(sed -n 's/.*User time (seconds): //p' "$f.time")"
  sys="$(sed -n 's/.*System time (seconds): //p' "$f.time")"
  rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$f.time")"
  rows="$(psql "$(db_url "$db")" -XAtqc "SELECT count(*) FROM datasets")"
  pages="$(ls "$(gen "$n")" | grep -c '\.json$')"
  printf '%s,%s,%s,%.1f,%.1f,%.0f,%s\n' "$name" "$n" "$pages" "$wall" "$(awk "BEGIN{print $user + $sys}")" \
    "$(awk "BEGIN{print $rss / 1024}")" "$rows" >> "$results"
  tail -1 "$results" >&2
}

# The measured commands are scripts (GNU time runs programs, not shell functions).
cat > "$work/ours.sh" <<SH
#!/usr/bin/env bash
# DB SOURCE
exec env -i PATH="$PATH" ECOSPHERES_DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/\$1" \\
  AWS_ENDPOINT="$s3url" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test \\
  AWS_SECRET_ACCESS_KEY=test OMP_THREAD_LIMIT=1 "$bin" -q ecospheres --source "\$2"
SH
chmod +x "$work/ours.sh"
measure "data-tasks file://" "$datasets" eco_file "$work/ours.sh" eco_file "file://$big"
measure "data-tasks file:// (today's size)" "$small" eco_small "$work/ours.sh" eco_small "file://$little"
if [ "$s3" = 1 ]; then
  measure "data-tasks s3://" "$datasets" eco_s3 "$work/ours.sh" eco_s3 "s3://$bucket/n$datasets/DUMP_INTEGRATION_JSON/"
  measure "data-tasks s3:// (today's size)" "$small" eco_s3_small "$work/ours.sh" eco_s3_small \
    "s3://$bucket/n$small/DUMP_INTEGRATION_JSON/"
fi

if [ -n "$original" ]; then
  venv="$deps/ecospheres-venv"
  [ -x "$venv/bin/python" ] || { echo "no $venv: run scripts/diff-ecospheres.sh once (it makes it)" >&2; exit 1; }
  cat > "$work/original.sh" <<SH
#!/usr/bin/env bash
# N DB: the original's three steps, unchanged, one after the other (as its CronJob runs them),
# reading s3://$bucket/nN/DUMP_INTEGRATION_JSON/.
set -e
mkdir -p "$work/orig-\$1" && cd "$work/orig-\$1"
for step in extract transform load; do
  env -i PATH="$PATH" HOME="$HOME" S3_ENDPOINT_URL="$s3url" ACCESS_KEY=test SECRET_KEY=test \\
    BUCKET_NAME="$bucket/n\$1" POSTGRES_USER=postgres POSTGRES_PASSWORD=unused POSTGRES_URL=127.0.0.1 \\
    POSTGRES_PORT="$pg_port" POSTGRES_DB="\$2" "$venv/bin/python" "$original/src/\$step.py"
done
SH
  chmod +x "$work/original.sh"
  measure "original ETL (today's size)" "$small" orig_small "$work/original.sh" "$small" orig_small
  measure "original ETL" "$datasets" orig_big "$work/original.sh" "$datasets" orig_big
fi

host="$(hostname -s)"
record="bench/ecospheres/$(date +%F)-$host-n$datasets.md"
mkdir -p bench/ecospheres
{
  echo "# ecospheres benchmark, $(date +%F), $host"
  echo
  echo "$(getconf _NPROCESSORS_ONLN) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB RAM;"
  echo "catalogue: gen_catalog.py --seed $seed, $datasets datasets ($(du -sh "$big" | cut -f1) of JSON-LD) and $small ($(du -sh "$little" | cut -f1));"
  echo "PostgreSQL $(psql "$pg_url" -XAtqc 'SHOW server_version') (throwaway, fsync off) and SeaweedFS on the same machine."
  echo
  echo "| run | datasets | pages | wall (s) | CPU (s) | peak RSS (MiB) | rows |"
  echo "|---|---|---|---|---|---|---|"
  tail -n +2 "$results" | awk -F, '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }'
  if [ -n "$original" ]; then
    echo
    awk -F, -v n="$datasets" '
      $1 == "original ETL" { ow = $4; oc = $5 }
      $1 == "data-tasks s3://" { dw = $4; dc = $5 }
      END { if (ow && dw) printf "Speed-up on the same %s datasets read from S3: %.0f× wall, %.0f× CPU.\n", n, ow / dw, oc / dc }' "$results"
  fi
} > "$record"
cat "$record"
log "record written to $record"
