# Larder: one image per service, from this one Dockerfile. Build from the
# repository root, naming the service:
#
#   docker build --build-arg SERVICE=inventory -t larder-inventory .
#   docker build --build-arg SERVICE=order -t larder-order .
#
# The build stage compiles the TypeScript (npm run build, tsconfig.build.json)
# into dist/; the image holds dist/ and the production dependencies only: no
# sources, no tests, no tsx or typescript. It runs plain node. Besides the
# service it runs that service's migrations:
#
#   docker run --rm -e INVENTORY_DATABASE_URL=postgres://… larder-inventory \
#     node dist/scripts/migrate.js inventory
#
# docker-compose.yml does this for the `migrate-<service>` jobs and runs the
# services. services/*/test/containers.test.ts check this file statically, build
# dist/ from exactly the files the build stage copies, and run the service,
# its migrations and its health check from the files the runtime stage holds.

# SERVICE (inventory or order) picks the last stage below; unset, the build fails.
ARG SERVICE

# ---- build: every dependency, then tsc into dist/ ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY libs/ libs/
COPY services/ services/
# tsconfig.build.json picks the scripts production runs (migrate, healthcheck…);
# the others are not compiled. Tests and their helpers are not in the context
# (.dockerignore), and nothing compiled imports them.
COPY scripts/ scripts/
# Type-checks as it compiles: a type error fails the image here.
RUN npm run build

# ---- runtime: production dependencies and dist/, shared by both services ----
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
# Compiled code only. dist/package.json makes it ES modules with #libs/* mapped
# inside dist/; dist/libs/contracts/descriptors.binpb serves reflection.
COPY --from=build /app/dist/ dist/
ENV NODE_ENV=production
# Files stay root-owned (read-only to the service).
USER node
# Asks grpc.health.v1.Health/Check on 127.0.0.1:$GRPC_PORT; healthy only when SERVING.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/scripts/healthcheck.js"]

# ---- one stage per service: its port, and node running its main.js ----
# gRPC on GRPC_PORT; Prometheus metrics (GET /metrics) on METRICS_PORT (the
# service's default). SIGTERM reaches node directly (exec form): health goes
# NOT_SERVING, in-flight calls finish within SHUTDOWN_GRACE_MS, then pools close.
FROM runtime AS inventory
ENV GRPC_PORT=50051
EXPOSE 50051 9464
CMD ["node", "dist/services/inventory/main.js"]

FROM runtime AS order
ENV GRPC_PORT=50052
EXPOSE 50052 9465
CMD ["node", "dist/services/order/main.js"]

# The image: the stage SERVICE names (a stage per service, rather than one CMD
# with ${SERVICE}, because exec-form CMD and HEALTHCHECK do not expand variables).
FROM ${SERVICE}
