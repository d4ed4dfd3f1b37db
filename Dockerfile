# The Tollgate worker (and CLI) as a container: build in one stage, run on a slim non-root image.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tollgate.config.ts ./
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-slim AS runtime
ENV NODE_ENV=production TOLLGATE_HOME=/var/lib/tollgate
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY scripts ./scripts
RUN mkdir -p /var/lib/tollgate && chown node:node /var/lib/tollgate
USER node
# Worker.run() drains on SIGTERM: running stages get TOLLGATE_SHUTDOWN_GRACE_MS to finish.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/worker.js"]
