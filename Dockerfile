# Multi-stage build: a static binary on a minimal image, run as non-root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/schemaproxy ./cmd/schemaproxy

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/schemaproxy /schemaproxy
VOLUME /data
EXPOSE 6379
USER nonroot:nonroot
ENTRYPOINT ["/schemaproxy", "--listen", "0.0.0.0:6379", "--data-dir", "/data"]
