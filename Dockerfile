# syntax=docker/dockerfile:1
# Arc's image: `docker build -t arc .` then `docker run -p 8000:8000 -v arc-data:/var/lib/arc arc`
# (or `docker compose up`, or `./start.sh docker`). docs/deployment.md says what each part is for.
#
# Three stages: the npm manifests alone (so `npm ci` re-runs only when a package.json or the lock
# changes), the build (dev dependencies, native modules compiled, TypeScript built, dev
# dependencies pruned), and the runtime: Node 20 on Debian 12 slim with production node_modules,
# the compiled packages and start.sh, owned by root and run as the unprivileged user `arc`.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- The manifests: package.json of the root and of every workspace, and the lock file ---------
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
# The workspaces are read from package.json: a new package needs no change here.
RUN node -e ' \
  const { cpSync, mkdirSync } = require("node:fs"); \
  const { workspaces } = require("./package.json"); \
  for (const dir of ["", ...workspaces]) { mkdirSync(`/manifests/${dir}`, { recursive: true }); cpSync(`${dir || "."}/package.json`, `/manifests/${dir}/package.json`); } \
  cpSync("package-lock.json", "/manifests/package-lock.json");'

# --- Build -------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
# better-sqlite3 and zstd-napi compile from source when no prebuilt binary can be fetched.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY --from=manifests /manifests/ ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -b packages/cli \
  && npm prune --omit=dev --no-audit --no-fund
# What the runtime needs: production node_modules, each package's package.json and dist/, start.sh.
# node_modules/@arc/<name> are links to ../../packages/<name>, so the layout is kept as it is.
RUN mkdir -p /app \
  && cp -a node_modules package.json start.sh arc /app/ \
  && for dir in packages/*/; do mkdir -p "/app/$dir" && cp -a "$dir/package.json" "$dir/dist" "/app/$dir"; done \
  && rm -f /app/node_modules/@arc/bench \
  && find /app/packages -name '*.tsbuildinfo' -delete \
  && chmod +x /app/packages/cli/dist/main.js

# --- Runtime -----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# A dedicated system user with a fixed id, so a bind-mounted data directory can be chown'ed to it.
RUN groupadd --system --gid 10001 arc \
  && useradd --system --uid 10001 --gid arc --home-dir /var/lib/arc --no-create-home --shell /usr/sbin/nologin arc \
  && mkdir -p /var/lib/arc \
  && chown arc:arc /var/lib/arc
COPY --from=build /app /app
WORKDIR /app
# Every arc.conf key can be set as ARC_<SECTION>_<KEY> (README "Configuration"); mount a file and
# set ARC_CONFIG=/path/arc.conf to use one. start.sh sizes the thread counts from the container's
# CPU limit unless they are set here or in that file.
ENV NODE_ENV=production \
    ARC_HOST=0.0.0.0 \
    ARC_PORT=8000 \
    ARC_DATA_DIR=/var/lib/arc
# The WAL, arc.db (tokens), the lock, Parquet files (local storage) or the cache (object storage).
VOLUME ["/var/lib/arc"]
EXPOSE 8000
USER arc
# `arc health` reads the port from the same configuration as the server; exit 0 = healthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/packages/cli/dist/main.js", "health"]
# start.sh execs node: Arc is PID 1 and gets `docker stop`'s SIGTERM itself (a clean stop flushes
# every acknowledged row; give it time: `docker stop -t 90`, compose's stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/start.sh", "native", "--no-build"]
