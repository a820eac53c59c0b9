#!/usr/bin/env bash
# Benchmarks `data-tasks gn2pg` against gn2pg-client 1.10.1 on the same fake GeoNature, in one run:
# for each export size N (default 1,000,000 rows, page size 1000, 20 ms latency per page), a
# `full` and then an `update` touching 1% of the rows (N/100 modified, plus N/1000 deleted),
# each tool into its own schema of a throwaway PostgreSQL cluster. Between the full and the
# update, the verify phases (unless --no-verify): N/10,000 rows dropped from our copy and N/100,000
# foreign rows added, then `gn2pg verify`, `gn2pg verify --repair` (the copy must then equal
# gn2pg-client's), and a re-download `gn2pg full --restart` over the complete copy for comparison.
# Measures wall time, CPU seconds (user + sys) and peak RSS with GNU time, the requests and bytes
# the fake served (its /_fake/stats), and writes bench/gn2pg/<date>-<host>/ (raw.csv, summary.md).
# The fake runs as a separate process (examples/gn2pg_fake.rs) and its CPU is not counted for
# either tool.
#
#   scripts/bench-gn2pg.sh [--rows "100000 1000000"] [--client-rows N] [--latency-ms 20]
#                          [--kind cd_nomenclature|label|metadata] [--no-client] [--no-verify]
#                          [--tag NAME]
#
# --client-rows caps the sizes gn2pg-client is run on (it writes row by row: about 1 ms per row,
# so a 1M-row full takes ~15-20 min); by default it runs on every size. --tag NAME is appended to
# the record's folder name.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

rows_list="1000000"
client_rows=""
latency=20
kind="cd_nomenclature"
client=1
verify=1
tag=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows_list="$2"; shift 2 ;;
    --client-rows) client_rows="$2"; shift 2 ;;
    --latency-ms) latency="$2"; shift 2 ;;
    --kind) kind="$2"; shift 2 ;;
    --no-client) client=0; shift ;;
    --no-verify) verify=0; shift ;;
    --tag) tag="-$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$kind" in
  cd_nomenclature) data_type="synthese_with_cd_nomenclature" ;;
  label) data_type="synthese_with_label" ;;
  metadata) data_type="synthese_with_metadata" ;;
  *) echo "unknown kind $kind" >&2; exit 2 ;;
esac

cd "$root"
if [ "$client" = 1 ]; then
  install_deps
fi
gn2pg_cli="$deps/gn2pg-venv/bin/gn2pg_cli"
if [ "$client" = 1 ] && [ ! -x "$gn2pg_cli" ]; then
  echo "gn2pg-client is missing: run scripts/install-deps.sh (or pass --no-client)" >&2
  exit 2
fi
echo "== building (release)"
cargo build --release --quiet --locked --bin data-tasks --example gn2pg_fake
cargo build --quiet --locked -p testkit --bin throwaway-pg
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release/data-tasks"
fake_bin="$target/release/examples/gn2pg_fake"
throwaway_pg="$target/debug/throwaway-pg"

work="$(mktemp -d)"
chmod 755 "$work"
fake_pid=""
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
  [ -d "$work/pg" ] && { "$throwaway_pg" stop "$work/pg" >/dev/null 2>&1 || true; }
  rm -rf "$work"
}
trap cleanup EXIT
echo "== starting a throwaway PostgreSQL cluster"
eval "$("$throwaway_pg" start "$work/pg")"
admin="$TEST_DATABASE_URL"
pg_host="$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.hostname)' "$admin")"
pg_port="$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.port or 5432)' "$admin")"
pg_user="$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.username or "postgres")' "$admin")"
db_url() { python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$admin" "$1"; }
tz="$(psql "$admin" -XAtqc 'show timezone')"

out_dir="bench/gn2pg/$(date -u +%Y-%m-%d)-$(hostname -s)$tag"
mkdir -p "$out_dir"
csv="$out_dir/raw.csv"
echo "tool,rows,phase,items,wall_s,cpu_s,rows_per_s,peak_rss_mb,exit,requests,mb_received" > "$csv"

# fake_stats [reset]: "requests,MB" the fake served since the last reset (its own endpoints aside).
fake_stats() {
  curl -fsS "${fake_url}_fake/stats${1:+?reset=1}" |
    python3 -c 'import json,sys; s=json.load(sys.stdin); print("%d,%.2f" % (s["requests"], s["bytes"] / 1e6))'
}

# measure TOOL ROWS PHASE DB ITEMS_SQL -- command…: runs the command under GNU time, appends to
# raw.csv with the requests and bytes the fake served meanwhile.
measure() {
  local tool="$1" rows="$2" phase="$3" db="$4" items_sql="$5"
  shift 6
  local t="$work/time-$tool-$rows-$phase.txt" rc=0
  fake_stats reset >/dev/null
  /usr/bin/time -v -o "$t" "$@" > "$work/$tool-$rows-$phase.log" 2>&1 || rc=$?
  local served
  served="$(fake_stats reset)"
  local wall cpu rss items
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$t")"
  cpu="$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u+s}' "$t")"
  rss="$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$t")"
  items="$(psql "$(db_url "$db")" -XAtqc "$items_sql")"
  local rate
  rate="$(python3 -c "import sys; w=float(sys.argv[1]); print(round(int(sys.argv[2])/w) if w > 0 else 0)" "$wall" "$items")"
  echo "$tool,$rows,$phase,$items,$wall,$cpu,$rate,$rss,$rc,$served" | tee -a "$csv"
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
for rows in $rows_list; do
  echo "== $rows rows, page 1000, ${latency} ms per page, $data_type"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  "$fake_bin" --rows "$rows" --latency-ms "$latency" --kind "$kind" --port "$port" > "$work/fake.url" &
  fake_pid=$!
  for _ in $(seq 50); do [ -s "$work/fake.url" ] && break; sleep 0.1; done
  fake_url="$(cat "$work/fake.url")"
  db="bench_$rows"
  psql "$admin" -XAtqc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null

  # data-tasks
  cat > "$work/ours.toml" <<EOF
[gn2pg]
schema = "ours"
source_timezone = "$tz"
page_size = 1000
[[gn2pg.source]]
name = "Bench"
url = "$fake_url"
data_export_id = 12
user_name = "gn2pg"
data_type = "$data_type"
EOF
  export GN2PG_DATABASE_URL
  GN2PG_DATABASE_URL="$(db_url "$db")"
  export GN2PG_BENCH_PASSWORD="pw-geonature"
  "$bin" -q --config "$work/ours.toml" gn2pg init-db >/dev/null
  run_client=0
  if [ "$client" = 1 ] && { [ -z "$client_rows" ] || [ "$rows" -le "$client_rows" ]; }; then
    run_client=1
    mkdir -p "$work/home/.gn2pg"
    cat > "$work/home/.gn2pg/bench.toml" <<EOF
[db]
db_host = "$pg_host"
db_port = $pg_port
db_user = "$pg_user"
db_password = "unused"
db_name = "$db"
db_schema_import = "client"

[[source]]
name = "Bench"
user_name = "gn2pg"
user_password = "pw-geonature"
url = "$fake_url"
data_export_id = 12
data_type = "$data_type"
[source.query_strings]
orderby = 'id_synthese'

[tuning]
max_page_length = 1000
EOF
    HOME="$work/home" TZ="$tz" "$gn2pg_cli" -q db --upgrade bench.toml >/dev/null 2>&1
  fi

  measure data-tasks "$rows" full "$db" "SELECT api_count_items FROM ours.import_log ORDER BY id DESC LIMIT 1" -- \
    "$bin" -q --config "$work/ours.toml" gn2pg full
  if [ "$verify" = 1 ]; then
    # Drop N/10,000 random rows of our copy and add N/100,000 foreign ones at random ids the
    # source does not have (the fake's ids skip every tenth number), among its rows.
    missing=$((rows / 10000)); extra=$((rows / 100000))
    [ "$missing" -ge 1 ] || missing=1
    [ "$extra" -ge 1 ] || extra=1
    psql "$(db_url "$db")" -XAtq >/dev/null <<SQL
SELECT setseed(0.42);
DELETE FROM ours.data_json WHERE id_data IN
  (SELECT id_data FROM ours.data_json ORDER BY random() LIMIT $missing);
INSERT INTO ours.data_json (source, controler, type, id_data, uuid, item, update_ts, import_id)
SELECT 'bench', 'data', '$data_type', g, gen_random_uuid(), jsonb_build_object('id_synthese', g),
       localtimestamp, (SELECT max(id) FROM ours.import_log)
  FROM (SELECT DISTINCT 10 * (1 + floor(random() * (SELECT max(id_data) / 10 - 1 FROM ours.data_json)))::int AS g
          FROM generate_series(1, 10 * $extra) LIMIT $extra) t;
SQL
    found="SELECT coalesce((counts->>'missing')::int, 0) + coalesce((counts->>'extra')::int, 0) FROM data_tasks.sync_run ORDER BY id DESC LIMIT 1"
    measure data-tasks "$rows" "verify ($missing missing + $extra extra)" "$db" "$found" -- \
      "$bin" -q --config "$work/ours.toml" gn2pg verify
    measure data-tasks "$rows" "verify --repair" "$db" \
      "SELECT coalesce((counts->>'repaired')::int, 0) FROM data_tasks.sync_run ORDER BY id DESC LIMIT 1" -- \
      "$bin" -q --config "$work/ours.toml" gn2pg verify --repair
    measure data-tasks "$rows" "verify (after the repair)" "$db" "$found" -- \
      "$bin" -q --config "$work/ours.toml" gn2pg verify
    # What really differs now, from the fake's own ids (a missing and an extra row in one range of
    # equal counts cancel out: docs/syncs/gn2pg.md §13).
    curl -fsS "${fake_url}_fake/ids" > "$work/ids.txt" 2>/dev/null || true
    if [ -s "$work/ids.txt" ]; then
      left="$(psql "$(db_url "$db")" -XAtq -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE remote_ids (id int);
\\copy remote_ids FROM '$work/ids.txt'
SELECT count(*) FROM remote_ids r FULL JOIN (SELECT id_data FROM ours.data_json) o ON o.id_data = r.id
 WHERE r.id IS NULL OR o.id_data IS NULL;
SQL
)"
      echo "ids still differing after verify --repair: $left"
      echo "$rows,$left" >> "$work/repair-diff.csv"
    fi
    measure data-tasks "$rows" "full --restart (re-download)" "$db" "SELECT api_count_items FROM ours.import_log ORDER BY id DESC LIMIT 1" -- \
      "$bin" -q --config "$work/ours.toml" gn2pg full --restart
  fi

  if [ "$run_client" = 1 ]; then
    measure gn2pg-client "$rows" full "$db" "SELECT count(*) FROM client.data_json" -- \
      env HOME="$work/home" TZ="$tz" "$gn2pg_cli" -q download --full bench.toml
  fi

  stamp="$(psql "$admin" -XAtqc "SELECT to_char(now() - interval '1 second', 'YYYY-MM-DD HH24:MI:SS')")"
  curl -fsS "${fake_url}_fake/mutate?modify=$((rows / 100))&delete=$((rows / 1000))&foreign=10&stamp=$(python3 -c 'import sys,urllib.parse as u; print(u.quote(sys.argv[1]))' "$stamp")" >/dev/null
  sleep 1.2
  measure data-tasks "$rows" update "$db" "SELECT api_count_items FROM ours.import_log ORDER BY id DESC LIMIT 1" -- \
    "$bin" -q --config "$work/ours.toml" gn2pg update
  if [ "$run_client" = 1 ]; then
    measure gn2pg-client "$rows" update "$db" "SELECT api_count_items FROM client.import_log ORDER BY id DESC LIMIT 1" -- \
      env HOME="$work/home" TZ="$tz" "$gn2pg_cli" -q download --update bench.toml
    same="$(psql "$(db_url "$db")" -XAtqc "SELECT count(*) FROM ours.data_json o FULL JOIN client.data_json c USING (id_data) WHERE o.item IS DISTINCT FROM c.item OR o.uuid IS DISTINCT FROM c.uuid")"
    echo "rows differing between the two schemas after the update: $same"
    echo "$rows,$same" >> "$work/diff.csv"
  fi
  kill "$fake_pid" 2>/dev/null || true
  wait "$fake_pid" 2>/dev/null || true
  fake_pid=""
  psql "$admin" -XAtqc "DROP DATABASE IF EXISTS $db" >/dev/null
done

{
  echo "# gn2pg benchmark — $(date -u +%Y-%m-%d) on $(hostname -s) ($(getconf _NPROCESSORS_ONLN) cores)"
  echo
  echo "Load average at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share the machine)."
  echo
  echo "\`scripts/bench-gn2pg.sh --rows \"$rows_list\"${client_rows:+ --client-rows $client_rows} --latency-ms $latency --kind $kind\`:"
  echo "fake GeoNature (examples/gn2pg_fake.rs, separate process, ${latency} ms per export page, page"
  echo "size 1000, $data_type rows), throwaway PostgreSQL on the same machine. \`update\` = 1% of"
  echo "the rows modified and 0.1% deleted (plus 10 foreign deletions). rows/s = rows fetched / wall time."
  echo "\`verify\`: after the full, rows dropped from our copy and foreign rows added (items = the"
  echo "differences; exit 1 = differences found, as intended); \`verify --repair\` (items = rows put"
  echo "right); then \`full --restart\`, a re-download over the complete copy. requests and MB: what"
  echo "the fake served during the phase (login and module list included)."
  echo
  echo "| tool | rows | phase | items | wall s | CPU s | rows/s | peak RSS MB | exit | requests | MB received |"
  echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  tail -n +2 "$csv" | awk -F, '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11}'
  if [ -f "$work/repair-diff.csv" ]; then
    echo
    echo "Ids of our \`data_json\` still differing from the export after \`verify --repair\` (rows, count):"
    sed 's/^/- /' "$work/repair-diff.csv"
  fi
  if [ -f "$work/diff.csv" ]; then
    echo
    echo "Rows of \`data_json\` differing between the two tools' schemas after the update (rows, count):"
    sed 's/^/- /' "$work/diff.csv"
  fi
} > "$out_dir/summary.md"
cat "$out_dir/summary.md"
