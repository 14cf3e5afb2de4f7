# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with dev dependencies, ship only the runtime.
# Runs as non-root and works with a read-only root filesystem: the only writable path it needs
# is the audit log directory, /var/lib/syncgate (mount a volume there).

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json rolldown.config.mjs ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim
# git reads objects when a request names a repoPath; tini forwards SIGTERM for graceful shutdown.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/syncgate \
 && chown 1000:1000 /var/lib/syncgate
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json LICENSE ./
COPY keys.example ./keys.example
COPY policies ./policies
RUN ln -s /app/dist/bundle/syncgate.js /usr/local/bin/syncgate && chmod 755 /app/dist/bundle/syncgate.js
# Numeric, so Kubernetes can check runAsNonRoot (the node user of the base image is 1000).
USER 1000:1000
VOLUME ["/var/lib/syncgate"]
EXPOSE 8480
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8480/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The young generation's size can only be set when node starts (src/server/young-generation.ts).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=8", "/app/dist/bundle/syncgate.js"]
CMD ["serve", "--audit-log", "/var/lib/syncgate/audit.jsonl"]
