# matomo-gateway container image.
#
#   docker build -t matomo-gateway .
#   docker run --rm -p 8080:8080 -p 9090:9090 \
#     -e MATOMO_GATEWAY_REDIS=redis://:password@redis:6379/0 -e MATOMO_GATEWAY_QUEUES=4 matomo-gateway
#
# tests/deploy/dockerfile.sh keeps this file honest without a Docker engine: the runtime package list
# must cover every shared library the Release binary links, the build stage must run
# scripts/install-deps.sh and the Makefile's `build` cmake commands, and the runtime user must not be root.

# `make image` (scripts/image.sh) builds it with podman on a local debootstrapped Debian 12 base,
# passed as both BUILD_BASE and RUNTIME_BASE; `make image-test` checks the result.
ARG BUILD_BASE=debian:bookworm
ARG RUNTIME_BASE=debian:bookworm-slim

# ---- build: the same steps as `make build` on a Debian 12 machine ----
FROM ${BUILD_BASE} AS build
WORKDIR /src
# Dependencies first, so editing a source file does not reinstall them. Only the build's packages:
# the test toolchain (Redis, PHP, HAProxy, Go) is not needed to compile.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMGW_BUILD_TESTS=OFF \
 && cmake --build build -j "$(nproc)" --target matomo-gateway \
 && strip build/matomo-gateway

# ---- runtime: the shared libraries the binary links and nothing else (no compiler, no curl) ----
FROM ${RUNTIME_BASE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-container1.81.0 \
      libboost-json1.81.0 \
      libdeflate0 \
      libhiredis0.14 \
      libmaxminddb0 \
      libprometheus-cpp-core1.0 \
      libssl3 \
      libtomlplusplus3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 matomo-gateway \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin matomo-gateway
COPY --from=build /src/build/matomo-gateway /usr/local/bin/matomo-gateway
# Fails the image build when a linked library is missing from the list above.
RUN /usr/local/bin/matomo-gateway --check-config >/dev/null

# Inside a container both listeners must accept connections from outside the network namespace.
# Keep the admin port (probes, /metrics) off any public Service or load balancer.
ENV MATOMO_GATEWAY_LISTEN=0.0.0.0:8080 \
    MATOMO_GATEWAY_ADMIN_LISTEN=0.0.0.0:9090 \
    MATOMO_GATEWAY_SPOOL_DIR=/var/spool/matomo-gateway
# The spool (hits Redis could not take yet): mount a persistent volume here to keep them across
# container replacement.
RUN mkdir -p /var/spool/matomo-gateway && chown 10001:10001 /var/spool/matomo-gateway
VOLUME /var/spool/matomo-gateway
EXPOSE 8080 9090
# Numeric, so Kubernetes' runAsNonRoot can verify it without an /etc/passwd lookup.
USER 10001:10001
# SIGTERM (Docker's and Kubernetes' default) starts the drain: /readyz 503, delay, answer in-flight hits, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/matomo-gateway"]
