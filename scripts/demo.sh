#!/usr/bin/env bash
# Runs data-tasks offline on the bundled sample sources (testdata/golden: synthetic S3IC
# extraction files) with file:// storage under ./data/demo, then prints where the outputs are and
# their row counts. Needs only a Rust toolchain (run scripts/install-deps.sh first for the OCR
# parts of the pipeline).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export OMP_THREAD_LIMIT=1
cargo build --release --quiet --bin data-tasks
bin="$root/target/release/data-tasks"
demo="$root/data/demo"
rm -rf "$demo"
mkdir -p "$demo"
export DATA_TASKS_STORAGE_MISC="file://$demo/misc"
export DATA_TASKS_STORAGE_AP="file://$demo/ap"
export DATA_TASKS_STORAGE_AM="file://$demo/am"
src="$root/testdata/golden/sources"

echo "== data-tasks installations (S3IC extraction → installations_*.csv, classements_*.csv)"
"$bin" installations --s3ic "$src/s3ic-liste-etablissements.csv.gz" --rubriques "$src/sic-liste-rubriques.csv.gz"

echo
echo "== outputs in $demo/misc"
for f in "$demo"/misc/*.csv; do
  printf '  %-28s %8d rows\n' "$(basename "$f")" "$(( $(wc -l < "$f") - 1 ))"
done
