#!/usr/bin/env bash
# Checks the Docker image's runtime stage without Docker: builds its file system the way the
# Dockerfile's runtime stage does — Debian bookworm (debootstrap, minbase variant, like
# debian:bookworm-slim), the runtime stage's own `apt-get install` packages (read from the
# Dockerfile, so this script cannot drift from it), the release binary and libpdfium.so in
# /usr/local/bin, the same ENV and the uid/gid 10001 user — then, inside it (chroot) as uid 10001,
# proves the stage links and runs:
#   1. `ldd data-tasks` resolves every library;
#   2. `data-tasks check` on file:// stores passes (stores writable, tesseract fra + PDFium load);
#   3. `data-tasks ocr-file` on a fixture scan writes a searchable PDF with the French text.
# Needs root (debootstrap, chroot), network access to a Debian mirror (DT_DEBIAN_MIRROR, default
# deb.debian.org) and a few minutes the first time; the base file system is cached in
# DT_RUNTIME_CACHE (default target/check-runtime) and reused — delete it to start afresh. Not part
# of scripts/test.sh (too slow); run it when the Dockerfile or the binary's dependencies change.
#   scripts/check-runtime.sh            # builds the release binary first
#   BIN=path/to/data-tasks scripts/check-runtime.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { printf '[check-runtime] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap and chroot)"
mirror="${DT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache="${DT_RUNTIME_CACHE:-$root/target/check-runtime}"
base="$cache/base"
fs="$cache/rootfs"

# --- what the runtime stage installs, from the Dockerfile itself --------------------------------
runtime_stage="$(awk '/^FROM .* AS runtime/{on=1} on' Dockerfile)"
[ -n "$runtime_stage" ] || fail "no 'FROM … AS runtime' stage in the Dockerfile"
from="$(printf '%s\n' "$runtime_stage" | awk 'NR==1{print $2}')"
[ "$from" = "debian:bookworm-slim" ] || fail "runtime stage is FROM $from; this script builds debian:bookworm-slim"
packages="$(printf '%s\n' "$runtime_stage" | tr '\\' ' ' | tr '\n' ' ' \
  | sed -n 's/.*--no-install-recommends\(.*\)&& rm -rf \/var\/lib\/apt\/lists.*/\1/p' | xargs)"
[ -n "$packages" ] || fail "cannot read the runtime stage's apt-get install line"
uid="$(printf '%s\n' "$runtime_stage" | sed -n 's/.*--uid \([0-9]*\).*/\1/p' | head -1)"
[ "$uid" = "10001" ] || fail "runtime user is uid '$uid', expected 10001"
log "runtime stage: $from + $packages, user $uid"

# --- the binary ----------------------------------------------------------------------------------
if [ -z "${BIN:-}" ]; then
  log "cargo build --release --locked --bin data-tasks"
  cargo build --release --locked --bin data-tasks
  BIN="$root/target/release/data-tasks"
fi
[ -x "$BIN" ] || fail "no binary at $BIN"
[ -f "$PDFIUM_LIB" ] || fail "no libpdfium.so at $PDFIUM_LIB (run scripts/install-deps.sh)"

# --- base file system (cached): bookworm minbase + the runtime packages -------------------------
if ! command -v debootstrap >/dev/null; then
  log "apt-get install debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
mounted=()
cleanup() {
  local m
  for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
}
trap cleanup EXIT
mount_proc() {
  mkdir -p "$1/proc"
  mount -t proc proc "$1/proc"
  mounted+=("$1/proc")
}
stamp="$base/.check-runtime-packages"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$packages" ]; then
  rm -rf "$base"
  mkdir -p "$cache"
  log "debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
  timeout 1200 debootstrap --variant=minbase bookworm "$base" "$mirror" > "$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; fail "debootstrap"; }
  cp /etc/resolv.conf "$base/etc/resolv.conf"
  mount_proc "$base"
  log "apt-get install --no-install-recommends $packages (in the chroot)"
  # shellcheck disable=SC2086
  timeout 1200 chroot "$base" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null && rm -rf /var/lib/apt/lists/*" \
    || fail "apt-get install in the chroot"
  umount -l "$base/proc"
  mounted=()
  echo "$packages" > "$stamp"
else
  log "reusing $base (delete it to rebuild)"
fi

# --- the image: base + binary + user, as the Dockerfile's COPY/ENV/RUN/USER do --------------------
rm -rf "$fs"
cp -a "$base" "$fs"
install -m 0755 "$BIN" "$fs/usr/local/bin/data-tasks"
install -m 0644 "$PDFIUM_LIB" "$fs/usr/local/bin/libpdfium.so"
chroot "$fs" sh -c 'groupadd --gid 10001 data-tasks && useradd --uid 10001 --gid 10001 --no-log-init --home-dir /data --shell /usr/sbin/nologin data-tasks && mkdir -p /data && chown 10001:10001 /data'
cp "$root/testdata/ocr/fixtures/scan_arrete.pdf" "$fs/data/scan_arrete.pdf"
chown 10001:10001 "$fs/data/scan_arrete.pdf"
mount_proc "$fs"

# Runs a command in the image as uid 10001 in /data with only the image's environment.
in_image() {
  chroot --userspec=10001:10001 "$fs" env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/data \
    OMP_THREAD_LIMIT=1 PDFIUM_LIB=/usr/local/bin/libpdfium.so "$@"
}

log "1. ldd /usr/local/bin/data-tasks"
libs="$(chroot "$fs" ldd /usr/local/bin/data-tasks)"
printf '%s\n' "$libs" | sed 's/^/    /'
if printf '%s\n' "$libs" | grep -q "not found"; then fail "unresolved libraries"; fi

log "2. data-tasks check on file:// stores, as uid $(in_image id -u)"
in_image sh -c 'cd /data && DATA_TASKS_STORAGE_MISC=file:///data/misc DATA_TASKS_STORAGE_AP=file:///data/ap DATA_TASKS_STORAGE_AM=file:///data/am data-tasks check' \
  || fail "data-tasks check"

log "3. data-tasks ocr-file scan_arrete.pdf (testdata/ocr/fixtures)"
in_image sh -c 'cd /data && data-tasks ocr-file scan_arrete.pdf out.pdf --sidecar out.txt' \
  || fail "data-tasks ocr-file"
grep -q "préfectoral" "$fs/data/out.txt" || fail "the sidecar lacks the French text"
[ "$(stat -c %u "$fs/data/out.pdf")" = "10001" ] || fail "out.pdf not owned by uid 10001"
log "   out.pdf: $(stat -c %s "$fs/data/out.pdf") bytes, owned by uid 10001; sidecar: $(head -c 60 "$fs/data/out.txt" | tr '\n' ' ')…"
log "OK: the runtime stage links and runs ($packages on bookworm, uid 10001)"
