# syntax=docker/dockerfile:1
#
# data-tasks image: `docker build -t ghcr.io/envinorma/data-tasks:latest .`
# Runs `data-tasks daily` by default; any other command replaces CMD:
#   docker run --rm --env-file /etc/data-tasks.env ghcr.io/envinorma/data-tasks:latest ocr --shard 0/8
# Secrets and settings come only from the environment (see docker/README.md).

# ---- build stage ---------------------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src

# Build dependencies first (own layer, cached while the script is unchanged): tesseract and
# leptonica headers, clang for bindgen, and libpdfium.so from the pinned pypdfium2 wheel into
# /src/.deps/pdfium/, gn2pg-client's trigger script from its pinned wheel into /src/.deps/gn2pg/.
# SeaweedFS and Chromium are only for the tests.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN SKIP_CHROMIUM=1 SKIP_SEAWEEDFS=1 bash scripts/install-deps.sh \
    && test -f /src/.deps/pdfium/libpdfium.so \
    && test -f /src/.deps/gn2pg/to_gnsynthese.sql \
    && rm -rf /var/lib/apt/lists/*

COPY . .
# The cache mounts keep the registry and the target folder between builds; the binary is copied
# out of the mounted target folder in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin data-tasks \
    && mkdir -p /out \
    && cp target/release/data-tasks /out/data-tasks \
    && cp .deps/pdfium/libpdfium.so /out/libpdfium.so \
    && cp .deps/gn2pg/to_gnsynthese.sql /out/to_gnsynthese.sql

# ---- runtime stage -------------------------------------------------------------------------------
# scripts/check-runtime.sh builds this stage's file system without Docker (debootstrap of bookworm,
# the packages of the apt-get line below, read from this file) and runs the binary in it as uid
# 10001: keep the install on one `apt-get install … --no-install-recommends … && rm -rf
# /var/lib/apt/lists/*` line so that it can read it.
FROM debian:bookworm-slim AS runtime

# tesseract-ocr brings the runtime libraries the binary links (libtesseract5, liblept5 and theirs);
# tesseract-ocr-fra the French model; ca-certificates for HTTPS downloads and S3.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       tesseract-ocr tesseract-ocr-fra ca-certificates \
    && rm -rf /var/lib/apt/lists/*

COPY --from=build /out/data-tasks /usr/local/bin/data-tasks
COPY --from=build /out/libpdfium.so /usr/local/bin/libpdfium.so
# `data-tasks gn2pg init-db --custom-script to_gnsynthese` (docs/syncs/gn2pg.md §1).
COPY --from=build /out/to_gnsynthese.sql /usr/local/share/data-tasks/gn2pg/to_gnsynthese.sql

# Debian's libtesseract uses OpenMP: one thread per recognition worker.
ENV OMP_THREAD_LIMIT=1 \
    PDFIUM_LIB=/usr/local/bin/libpdfium.so

RUN groupadd --gid 10001 data-tasks \
    && useradd --uid 10001 --gid 10001 --no-log-init \
       --home-dir /data --shell /usr/sbin/nologin data-tasks \
    && mkdir -p /data \
    && chown 10001:10001 /data

WORKDIR /data
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001

ENTRYPOINT ["data-tasks"]
CMD ["daily"]
