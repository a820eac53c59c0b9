#!/usr/bin/env bash
# Runs every check and test of data-tasks: formatting, unused dependencies, clippy (-D warnings),
# the build and clippy without the default features (the Envinorma pipeline alone), rustdoc
# (-D warnings), then all unit and integration tests against real services started here on
# loopback — a SeaweedFS S3 server and a throwaway PostgreSQL cluster (initdb in a temporary folder, a free
# port, trust auth; unless DATABASE_URL or PG* already point at a reachable server). Both are
# stopped at exit. Installs what is missing first (scripts/install-deps.sh is idempotent and takes
# under a second when everything is there; SKIP_INSTALL=1 skips it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
install_deps
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== unused dependencies"
python3 scripts/check-unused-deps.py
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked --features data-tasks/conformance -- -D warnings
echo "== without the syncs and the dashboard (cargo features)"
cargo clippy --locked --no-default-features -- -D warnings
cargo build --locked --no-default-features

echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --document-private-items --locked --quiet

work="$(mktemp -d)"
chmod 755 "$work"
cleanup() {
  scripts/seaweedfs.sh stop "$work/seaweedfs" || true
  [ -d "$work/pg" ] && { target/debug/throwaway-pg stop "$work/pg" || true; }
  rm -rf "$work"
}
trap cleanup EXIT
echo "== starting SeaweedFS"
s3_env="$(scripts/seaweedfs.sh start "$work/seaweedfs")" # fails the run when it cannot start
eval "$s3_env"

# PostgreSQL: a server the caller points at, else a throwaway cluster.
pg_reachable() { command -v psql >/dev/null && timeout 10 psql "$@" -XAtqc 'select 1' >/dev/null 2>&1; }
if [ -n "${DATABASE_URL:-}" ] && pg_reachable "$DATABASE_URL"; then
  echo "== PostgreSQL: using DATABASE_URL"
  export TEST_DATABASE_URL="$DATABASE_URL"
elif [ -n "${PGHOST:-}${PGPORT:-}${PGUSER:-}" ] && pg_reachable -d postgres; then
  echo "== PostgreSQL: using the server of PGHOST/PGPORT/PGUSER"
  export TEST_DATABASE_URL="postgresql://${PGUSER:-postgres}@${PGHOST:-127.0.0.1}:${PGPORT:-5432}/postgres"
else
  echo "== starting a throwaway PostgreSQL cluster"
  cargo build --quiet --locked -p testkit --bin throwaway-pg
  eval "$(target/debug/throwaway-pg start "$work/pg")"
fi

echo "== cargo test"
cargo test --workspace --locked --features data-tasks/conformance --no-fail-fast -- --test-threads="${TEST_THREADS:-2}"
