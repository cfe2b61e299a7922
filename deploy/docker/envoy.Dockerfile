# Envoy with warden's JSON/HTTP transcoding: docker build -f deploy/docker/envoy.Dockerfile .
# The descriptor set comes from the repository's protos (`buf build`, imports included), the same
# artifact `node scripts/build.mjs` writes to dist/warden.binpb.
ARG NODE_VERSION=22
FROM node:${NODE_VERSION}-bookworm-slim AS descriptors
WORKDIR /repo
COPY proto ./proto
COPY buf.yaml ./
RUN npx -y @bufbuild/buf@1.75.0 build -o /out/warden.binpb

FROM envoyproxy/envoy:v1.31.2
COPY --from=descriptors /out/warden.binpb /etc/envoy/warden.binpb
COPY deploy/envoy/envoy.yaml /etc/envoy/envoy.yaml
EXPOSE 8080
CMD ["envoy", "-c", "/etc/envoy/envoy.yaml"]
