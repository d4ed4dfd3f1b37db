# syntax=docker/dockerfile:1
# check=error=true

# The Tollgate image: the release worker (default command), a build worker
# (TOLLGATE_WORKER_QUEUES=build) and the codec server (`node dist/src/client.js codec-server`).
# Compiled in one stage; run on a slim Debian image with production dependencies only, as a
# non-root user, under tini. docker-compose.yml runs it; docs/deploying.md explains the settings.
#   docker build -t tollgate:local .

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tollgate.config.ts ./
COPY src ./src
COPY test ./test
COPY bench ./bench
# tsc, then the prebuilt workflow bundles (plain and encrypted): workers start without webpack.
RUN npm run build

FROM node:20-bookworm-slim AS runtime
# tini is PID 1: it hands SIGTERM to the worker alone, which stops polling and gives running stages
# TOLLGATE_SHUTDOWN_GRACE_MS to finish, and it reaps the orphans that stage processes leave behind.
# git: the worker fetches each release's commit into its mirror (https with ca-certificates, ssh with
# openssh-client and a deploy key). safe.directory: repositories mounted from the host belong to
# another uid, which git refuses to read otherwise; the worker only fetches from them.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini=0.19.0-* git=1:2.39.* \
    ca-certificates=2025* openssh-client=1:9.2p1-* \
  && rm -rf /var/lib/apt/lists/* \
  && git config --system safe.directory '*'
ENV NODE_ENV=production \
  TOLLGATE_HOME=/var/lib/tollgate
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workflow-bundle.js /app/dist/workflow-bundle.encrypted.js ./dist/
# `tollgate doctor` in the container reports the tools through this script.
COPY scripts/ensure-tools ./scripts/
# The run logs, artifacts, repository mirrors, workspaces, local environments and audit trail; mount a volume here.
RUN mkdir -p /var/lib/tollgate \
  && chown 1000:1000 /var/lib/tollgate
# The base image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/worker.js"]
