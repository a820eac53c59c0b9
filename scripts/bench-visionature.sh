#!/usr/bin/env bash
# Benchmark of `data-tasks visionature`, side by side with Client-API-VN 2.12.0 on the same fake
# Biolovision site (examples/fake_biolovision.rs, on loopback), into a throwaway PostgreSQL:
#   1. `transfer --full` of N sightings (default 1,000,000): ours, then transfer_vn --full of
#      CLIENT_N sightings (default N; the client is slow, a smaller CLIENT_N gives its rate);
#   2. `fix-sync --skip-download` on the N production rows with 1 % divergence (0.5 % missing
#      from production, 0.5 % older there).
# Measures wall time, CPU seconds (user+sys) and peak RSS with GNU time; writes
# bench/visionature/results.md and results.csv. Usage: scripts/bench-visionature.sh [N] [CLIENT_N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
install_deps
N="${1:-1000000}"
CLIENT_N="${2:-$N}"
DAYS="${DAYS:-400}"
out_dir="$root/bench/visionature"
mkdir -p "$out_dir"
work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -d "$work/pg" ] && { target/debug/throwaway-pg stop "$work/pg" || true; }
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build (release)"
cargo build --release --quiet --bin data-tasks --example fake_biolovision
cargo build --quiet -p testkit --bin throwaway-pg
eval "$(target/debug/throwaway-pg start "$work/pg")"
pg_port="$(echo "$TEST_DATABASE_URL" | sed 's/.*:\([0-9]*\)\/.*/\1/')"
psql "$TEST_DATABASE_URL" -qXc "CREATE DATABASE bench"
db="postgresql://postgres@127.0.0.1:$pg_port/bench"

start_fake() { # N → port
  target/release/examples/fake_biolovision "$1" "$DAYS" 1000 > "$work/fake-$1.out" &
  pids+=("$!")
  for _ in $(seq 1 600); do
    grep -q '^port=' "$work/fake-$1.out" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's/^port=//p' "$work/fake-$1.out"
}

measure() { # label, command… → appends label,wall,cpu,rss_kb
  local label="$1"; shift
  /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/$label.log" 2>&1 || { echo "$label failed:"; tail -20 "$work/$label.log"; exit 1; }
  local wall cpu rss
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')"
  cpu="$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$work/time.txt")"
  rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")"
  echo "$label,$wall,$cpu,$rss" >> "$work/results.csv"
  echo "   $label: wall ${wall}s, CPU ${cpu}s, peak RSS $((rss / 1024)) MiB"
}

echo "label,wall_s,cpu_s,peak_rss_kb" > "$work/results.csv"
port="$(start_fake "$N")"
cat > "$work/c.toml" <<EOF
[visionature]
[[visionature.site]]
name = "ff"
url = "http://127.0.0.1:$port/"
EOF
export VISIONATURE_DATABASE_URL="$db" TZ=UTC
export VN_FF_USER_EMAIL=user@example.org VN_FF_USER_PW=user-pw-secret VN_FF_CLIENT_KEY=ck-test VN_FF_CLIENT_SECRET=cs-secret-1
dt=(target/release/data-tasks -q --config "$work/c.toml" visionature)
"${dt[@]}" init-db > /dev/null
echo "== data-tasks transfer --full ($N sightings)"
measure ours_full "${dt[@]}" transfer --full
ours_rows="$(psql "$db" -AtXc 'SELECT count(*) FROM src_vn_json.observations_json')"

echo "== fix-sync on $ours_rows rows, 1 % divergence"
psql "$db" -qX <<'SQL'
CREATE SCHEMA src_vn_json_check;
SQL
"${dt[@]}" init-db --schema src_vn_json_check > /dev/null
psql "$db" -qX <<'SQL'
INSERT INTO src_vn_json_check.observations_json SELECT * FROM src_vn_json.observations_json;
DELETE FROM src_vn_json.observations_json WHERE id % 200 = 0;
UPDATE src_vn_json.observations_json SET update_ts = update_ts - 10 WHERE id % 200 = 1;
VACUUM ANALYZE;
SQL
measure ours_fix_sync "${dt[@]}" fix-sync --skip-download --no-deletes --no-notify
fix_line="$(grep -o 'fix-sync: .*' "$work/ours_fix_sync.log" | tail -1)"

client="$deps/visionature-venv/bin/transfer_vn"
if [ -x "$client" ]; then
  cport="$(start_fake "$CLIENT_N")"
  psql "$TEST_DATABASE_URL" -qXc "CREATE DATABASE bench_client"
  mkdir -p "$work/home"
  cat > "$work/home/evn.yaml" <<EOF
main:
  admin_mail: ops@example.org
controler:
$(for c in entities families fields local_admin_units observations observers places species taxo_groups territorial_units validations; do printf '  %s:\n    enabled: true\n    schedule:\n      hour: "1"\n' "$c"; done)
site:
  ff:
    enabled: true
    site: http://127.0.0.1:$cport/
    user_email: user@example.org
    user_pw: user-pw-secret
    client_key: ck-test
    client_secret: cs-secret-1
file:
  enabled: false
  file_store: store
database:
  enabled: true
  db_host: 127.0.0.1
  db_port: $pg_port
  db_name: bench_client
  db_schema_import: vn_client
  db_schema_vn: src_vn
  db_group: postgres
  db_user: postgres
  db_pw: unused
  db_secret_key: unused
  db_out_proj: '2154'
tuning:
  max_chunks: 1000
EOF
  (cd "$work/home" && HOME="$work/home" "$client" --json_tables_create evn.yaml > /dev/null 2>&1)
  echo "== Client-API-VN transfer_vn --full ($CLIENT_N sightings)"
  (cd "$work/home" && HOME="$work/home" measure client_full "$client" --full evn.yaml)
  client_rows="$(psql "postgresql://postgres@127.0.0.1:$pg_port/bench_client" -AtXc 'SELECT count(*) FROM vn_client.observations_json')"
else
  echo "transfer_vn not installed: client skipped"
  client_rows=0
fi

python3 - "$work/results.csv" "$N" "$ours_rows" "$CLIENT_N" "$client_rows" "$fix_line" > "$out_dir/results.md" <<'PY'
import csv, sys, datetime, os
rows = {r["label"]: r for r in csv.DictReader(open(sys.argv[1]))}
n, ours_rows, cn, client_rows, fix = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def rate(label, rows_):
    r = rows.get(label); return (rows_ / float(r["wall_s"])) if r and float(r["wall_s"]) > 0 else 0
print(f"# visionature benchmark — {datetime.date.today()} ({os.cpu_count()} cores)\n")
print("`scripts/bench-visionature.sh` — fake Biolovision site on loopback (1000 items per chunk), throwaway PostgreSQL, GNU time.\n")
print("| run | sightings | wall s | sightings/s | CPU s | peak RSS MiB |\n|---|---:|---:|---:|---:|---:|")
for label, rows_ in [("ours_full", ours_rows), ("client_full", client_rows)]:
    r = rows.get(label)
    if r:
        print(f"| {label} | {rows_} | {float(r['wall_s']):.1f} | {rate(label, rows_):.0f} | {float(r['cpu_s']):.1f} | {int(r['peak_rss_kb'])//1024} |")
r = rows.get("ours_fix_sync")
if r:
    print(f"| fix-sync --skip-download ({ours_rows} rows, 1 % divergence) | — | {float(r['wall_s']):.1f} | — | {float(r['cpu_s']):.1f} | {int(r['peak_rss_kb'])//1024} |")
o, c = rate("ours_full", ours_rows), rate("client_full", client_rows)
if c:
    print(f"\nSpeed-up of transfer --full: {o / c:.1f}× (sightings/s). {fix}")
PY
cp "$work/results.csv" "$out_dir/results.csv"
cat "$out_dir/results.md"
