# Sourced by the other scripts (not run): moves to the repository root and sets what every
# data-tasks process on this machine needs.
#   $root  the repository root (also the current directory)
#   $deps  where scripts/install-deps.sh puts PDFium and the venvs (DT_DEPS_DIR)
#   OMP_THREAD_LIMIT=1  Debian's libtesseract uses OpenMP, which halves throughput otherwise
#   PDFIUM_LIB          the libpdfium.so that install-deps.sh unzipped (unless already set)
# install_deps runs the idempotent scripts/install-deps.sh unless SKIP_INSTALL=1.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deps="${DT_DEPS_DIR:-$root/.deps}"
export OMP_THREAD_LIMIT=1
export PDFIUM_LIB="${PDFIUM_LIB:-$deps/pdfium/libpdfium.so}"
install_deps() { [ "${SKIP_INSTALL:-0}" = "1" ] || bash "$root/scripts/install-deps.sh"; }
