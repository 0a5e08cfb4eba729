# syntax=docker/dockerfile:1
# Multi-stage build. The build stage compiles better-sqlite3 (native) and the TypeScript; the
# runtime stage holds only production dependencies, the compiled code, migrations and content.
# tests/production.test.ts reads this file and runs the same steps in temporary folders (npm ci,
# npm run build, npm prune --omit=dev, then only the runtime stage's files, `node dist/src/server.js`).

# One base image for both stages: better-sqlite3 is compiled in the first and loaded in the
# second, so their Node ABI and glibc must be the same.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# package.json's allowScripts denies @scarf/scarf's install script (telemetry pulled in by the
# spectral dev tools), but the image's npm 10 does not read allowScripts; this is scarf's own off switch.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY db ./db
COPY migrations ./migrations
RUN npm run build \
 && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_PATH=/data/kb.sqlite
WORKDIR /app
# Owned by root and read-only to the service user: the code cannot be changed by the process.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/db/content ./db/content
# The database lives on a volume; on first start it is built there from db/content. A database
# already on the volume is kept as it is: to load the content of a newer image, run
# `node dist/src/cli/kb.js build` in the container, then restart it.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tini reaps zombies and forwards SIGTERM so close-with-grace can drain requests (up to 10 s;
# give `docker stop` a longer timeout, e.g. -t 15, so it does not SIGKILL mid-drain).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/server.js"]
