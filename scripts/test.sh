#!/usr/bin/env bash
# Runs every check and test of data-tasks: formatting, clippy (-D warnings), then all unit and
# integration tests against real services — a SeaweedFS S3 server started here on loopback and
# PostgreSQL on 127.0.0.1:5432. Installs what is missing first (scripts/install-deps.sh is
# idempotent and takes under a second when everything is there; SKIP_INSTALL=1 skips it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
install_deps
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

work="$(mktemp -d)"
cleanup() { scripts/seaweedfs.sh stop "$work/seaweedfs" || true; rm -rf "$work"; }
trap cleanup EXIT
echo "== starting SeaweedFS"
eval "$(scripts/seaweedfs.sh start "$work/seaweedfs")"

echo "== cargo test"
cargo test --workspace --locked --no-fail-fast -- --test-threads="${TEST_THREADS:-2}"
