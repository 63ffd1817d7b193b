# The hook server image: the stateless Metacontroller hooks, Node 20, production dependencies only.
# Build context: the repository root.
#   buildah bud -t gtp5g-operator .        (or docker build -t gtp5g-operator .)
# BASE_IMAGE must be a Debian-based image with Node 20 and npm on PATH.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
# Only for builds behind a TLS-intercepting proxy: the path of an extra CA bundle the build
# mounts. RUN steps see build args as env and npm honours it; it never lands in the image.
ARG NODE_EXTRA_CA_CERTS=
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY contract/ contract/
COPY hooks/ hooks/
COPY agent/ agent/
RUN npx tsc -p hooks/tsconfig.build.json

FROM ${BASE_IMAGE} AS deps
ARG NODE_EXTRA_CA_CERTS=
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${BASE_IMAGE}
ARG BASE_IMAGE
ARG VERSION=dev
LABEL org.opencontainers.image.title="gtp5g-operator" \
      org.opencontainers.image.description="Metacontroller hooks that load the gtp5g kernel module on Kubernetes nodes" \
      org.opencontainers.image.source="https://github.com/gthulhu/gtp5g-operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# The scheduling agent (spec.scheduling) runs from this image too: the hooks' agent Deployment
# calls this entrypoint, and its readiness probe `scheduling-agent check`.
RUN printf '#!/bin/sh\nexec node /app/dist/agent/main.js "$@"\n' > /usr/local/bin/scheduling-agent \
 && chmod 0755 /usr/local/bin/scheduling-agent
# The hooks need no privileges, no files and no API access: any unprivileged uid will do.
USER 65532:65532
EXPOSE 8080
CMD ["node", "dist/hooks/server/main.js"]
