# syntax=docker/dockerfile:1
# A small, static, non-root image of the aksim binary. Size target: under 20 MB (a stripped,
# statically linked musl binary on an empty base; the glibc release binary measures 12.3 MB on
# the project's machines). Not built there: they have no Docker engine — keep it plain.
#   docker build -t aksim .
#   docker run --rm -p 8443:8443 -v aksim-tls:/var/lib/aksim/tls \
#     -v aksim-state:/var/lib/aksim/state aksim
# The CA clients must trust is /var/lib/aksim/tls/ca.pem in the volume; add
# `--hostname NAME` (after the image name) when clients reach the container by NAME. The state
# (subscriptions, clusters, …) is loaded from /var/lib/aksim/state/aksim.json at start and saved
# there when the container stops (docker stop sends SIGTERM). The health check is
# `aksim ctl health`, which trusts the CA through AKSIM_TLS_DIR. sim/tests/docs.rs checks this
# file against the binary's flags.

FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# ring (TLS, tokens) builds its C parts with musl-gcc; the result has no dynamic dependencies.
RUN target="$(uname -m)-unknown-linux-musl" \
 && rustup target add "$target" \
 && cargo build --release --locked -p aksim --target "$target" \
 && install -D -m 0755 "target/$target/release/aksim" /out/usr/local/bin/aksim \
 && install -d -m 0700 /out/var/lib/aksim/tls /out/var/lib/aksim/state \
 && echo 'aksim:x:65532:65532:aksim:/var/lib/aksim:/sbin/nologin' > /out/passwd

FROM scratch
COPY --from=build /out/usr/local/bin/aksim /usr/local/bin/aksim
COPY --from=build /out/passwd /etc/passwd
# Owned by the non-root user so a fresh named volume inherits a writable directory.
COPY --from=build --chown=65532:65532 /out/var/lib/aksim /var/lib/aksim
USER 65532:65532
# Same as `--addr 0.0.0.0:8443 --tls-dir /var/lib/aksim/tls --state-file …`; as env so that
# arguments given to `docker run` add to them rather than replace them.
ENV AKSIM_ADDR=0.0.0.0:8443 \
    AKSIM_TLS_DIR=/var/lib/aksim/tls \
    AKSIM_STATE_FILE=/var/lib/aksim/state/aksim.json \
    HOME=/var/lib/aksim
VOLUME ["/var/lib/aksim/tls", "/var/lib/aksim/state"]
EXPOSE 8443
# `aksim ctl health` talks to https://127.0.0.1:8443 and finds the CA in AKSIM_TLS_DIR.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/aksim", "ctl", "health"]
ENTRYPOINT ["/usr/local/bin/aksim"]
