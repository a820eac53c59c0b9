#!/usr/bin/env bash
# Starts or stops a throw-away SeaweedFS S3 server on loopback for tests, demos and benchmarks.
#   scripts/seaweedfs.sh start DIR   → prints `export` lines (AWS_* and TEST_S3_ENDPOINT)
#   scripts/seaweedfs.sh stop DIR
# Buckets misc, envinorma-ap and envinorma-am are created (S3 names need 3+ characters; tests use
# unique prefixes of misc). Installed by scripts/install-deps.sh (.deps/venv/bin/weed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
weed="${WEED:-$root/.deps/venv/bin/weed}"
cmd="${1:?start|stop}"
dir="${2:?data folder}"
port="${SEAWEEDFS_S3_PORT:-8333}"

case "$cmd" in
  start)
    [ -x "$weed" ] || { echo "weed not found at $weed: run scripts/install-deps.sh" >&2; exit 1; }
    mkdir -p "$dir/data"
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
      echo "port $port already serves something: stop it first (scripts/seaweedfs.sh stop DIR)" >&2
      exit 1
    fi
    setsid "$weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port="$port" \
      -bucket=misc,envinorma-ap,envinorma-am >"$dir/weed.log" 2>&1 < /dev/null &
    echo $! >"$dir/weed.pid"
    for _ in $(seq 1 60); do
      if curl -s "http://127.0.0.1:$port/misc?list-type=2" 2>/dev/null | grep -q ListBucketResult; then
        cat <<ENV
export AWS_ENDPOINT=http://127.0.0.1:$port AWS_ALLOW_HTTP=true AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=dt-test-access-key AWS_SECRET_ACCESS_KEY=dt-test-secret-key
export TEST_S3_ENDPOINT=http://127.0.0.1:$port
ENV
        exit 0
      fi
      sleep 0.5
    done
    echo "SeaweedFS did not start; log:" >&2
    tail -20 "$dir/weed.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/weed.pid" ]; then
      pid="$(cat "$dir/weed.pid")"
      kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/weed.pid"
    fi
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
