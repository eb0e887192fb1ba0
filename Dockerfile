# syntax=docker/dockerfile:1
# A small non-root image of the aksim binary.
#   docker build -t aksim .
#   docker run --rm -p 8443:8443 -v aksim-tls:/var/lib/aksim/tls aksim
# The CA clients must trust is /var/lib/aksim/tls/ca.pem in the volume; add
# `--hostname NAME` (after the image name) when clients reach the container by NAME.
# Not built on the project's machines (no Docker engine there): keep it plain.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p aksim \
 && install -D -m 0755 target/release/aksim /out/usr/local/bin/aksim \
 && install -d -m 0700 /out/var/lib/aksim/tls

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/usr/local/bin/aksim /usr/local/bin/aksim
# Owned by the nonroot user (65532) so a fresh named volume inherits a writable directory.
COPY --from=build --chown=65532:65532 /out/var/lib/aksim /var/lib/aksim
USER 65532:65532
# Same as `--addr 0.0.0.0:8443 --tls-dir /var/lib/aksim/tls`; as env so that arguments given to
# `docker run` add to them rather than replace them.
ENV AKSIM_ADDR=0.0.0.0:8443 \
    AKSIM_TLS_DIR=/var/lib/aksim/tls
VOLUME ["/var/lib/aksim/tls"]
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/aksim"]
