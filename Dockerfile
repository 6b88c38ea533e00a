# hogsend-proxy image for server deployments (Redis + ClickHouse); see
# docker-compose.yml. The embedded chDB mode is for `make run` on a laptop.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hogsend-proxy ./cmd/hogsend-proxy

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/hogsend hogsend \
    && mkdir -p /var/lib/hogsend && chown hogsend /var/lib/hogsend
COPY --from=build /out/hogsend-proxy /usr/local/bin/hogsend-proxy
USER hogsend
ENV HOGSEND_LISTEN=0.0.0.0:8080 \
    HOGSEND_DATA_DIR=/var/lib/hogsend
VOLUME /var/lib/hogsend
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/hogsend-proxy"]
CMD ["serve"]
