#!/usr/bin/env bash
# Benchmark of `data-tasks installations` (issue target: 100k installations + 1M rubrique rows in
# ≤ 2 s wall and ≤ 1 GB peak RSS on 2 cores). Generates the sources with the seeded generator
# (cached under target/bench-data), builds the release binary, runs the task REPEAT times into a
# file:// store and prints wall time, CPU time and peak RSS of each run.
#   scripts/bench-installations.sh [INSTALLATIONS] [RUBRIQUES] [REPEAT]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
n="${1:-100000}"; m="${2:-1000000}"; repeat="${3:-3}"
data="target/bench-data/s3ic-$n-$m"
if [ ! -f "$data/sic-liste-rubriques.csv" ]; then
  echo "generating $n installations and $m rubrique rows into $data"
  python3 testdata/s3ic/gen_s3ic.py --out "$data" --installations "$n" --rubriques "$m" --seed 7
fi
cargo build --release --quiet
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "inputs: $(du -h "$data/s3ic-liste-etablissements.csv" | cut -f1) + $(du -h "$data/sic-liste-rubriques.csv" | cut -f1); machine: $(nproc) cores"
printf '%-4s %10s %10s %10s %12s\n' run wall_s user_s sys_s peak_rss_mb
for i in $(seq 1 "$repeat"); do
  rm -rf "$out/misc"
  DATA_TASKS_STORAGE_MISC="file://$out/misc" /usr/bin/time -f '%e %U %S %M' -o "$out/time" \
    target/release/data-tasks -q installations \
      --s3ic "$data/s3ic-liste-etablissements.csv" --rubriques "$data/sic-liste-rubriques.csv" >/dev/null
  read -r wall user sys rss < "$out/time"
  printf '%-4s %10s %10s %10s %12s\n' "$i" "$wall" "$user" "$sys" "$((rss / 1024))"
done
wc -l "$out"/misc/*.csv | sed 's/^/  /'
