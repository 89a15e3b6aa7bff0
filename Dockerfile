# syntax=docker/dockerfile:1
# One image for every service of the platform; the command picks the service, e.g.
#   docker run brokerage-platform gateway/dist/index.js
# and the database migrations (what `npm run migrate` does, without dev dependencies):
#   docker run -e USERS_DATABASE_URL=... brokerage-platform scripts/dist/migrate.js

# Only the manifests, so that the dependency layers are rebuilt only when dependencies change.
FROM scratch AS manifests
COPY package.json package-lock.json /app/
# The root postinstall applies these to dependencies (patch-package).
COPY patches /app/patches/
# The shared packages (common/*), each taken only by the services that use it.
COPY common/service/package.json /app/common/service/
COPY common/auth/package.json /app/common/auth/
COPY common/graphql/package.json /app/common/graphql/
COPY common/subgraph/package.json /app/common/subgraph/
COPY common/kafka/package.json /app/common/kafka/
COPY common/worker/package.json /app/common/worker/
COPY common/postgres/package.json /app/common/postgres/
COPY common/redis/package.json /app/common/redis/
COPY gateway/package.json /app/gateway/
COPY subgraphs/users/package.json /app/subgraphs/users/
COPY subgraphs/listings/package.json /app/subgraphs/listings/
COPY subgraphs/stocks/package.json /app/subgraphs/stocks/
COPY workers/price-fetcher/package.json /app/workers/price-fetcher/
COPY workers/price-ingestor/package.json /app/workers/price-ingestor/
COPY subgraphs/orders/package.json /app/subgraphs/orders/
COPY subgraphs/notifications/package.json /app/subgraphs/notifications/
COPY workers/verifier/package.json /app/workers/verifier/
COPY workers/verification-api/package.json /app/workers/verification-api/
# The owners' contracts (topic, key and channel names, message shapes), beside their owners.
COPY subgraphs/orders/contract/package.json /app/subgraphs/orders/contract/
COPY subgraphs/stocks/contract/package.json /app/subgraphs/stocks/contract/
COPY workers/price-fetcher/contract/package.json /app/workers/price-fetcher/contract/
COPY workers/price-ingestor/contract/package.json /app/workers/price-ingestor/contract/
COPY workers/verifier/contract/package.json /app/workers/verifier/contract/

FROM node:26-bookworm-slim AS deps
WORKDIR /app
COPY --from=manifests /app ./
RUN npm ci --ignore-scripts=false --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npm run build

FROM node:26-bookworm-slim AS runtime
# tini forwards SIGTERM to node and reaps zombies, so graceful shutdown works as PID 1.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=manifests /app ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# kafkajs as patched by patches/kafkajs+2.2.4.patch (applied in the deps stage, whose install runs
# the root postinstall; this stage's install runs no scripts).
COPY --from=deps /app/node_modules/kafkajs node_modules/kafkajs
COPY schema/supergraph.graphql schema/
COPY --from=build /app/gateway/dist gateway/dist
COPY --from=build /app/subgraphs/users/dist subgraphs/users/dist
COPY subgraphs/users/schema.graphql subgraphs/users/
COPY subgraphs/users/data/common-passwords.txt subgraphs/users/data/
COPY --from=build /app/subgraphs/listings/dist subgraphs/listings/dist
COPY subgraphs/listings/schema.graphql subgraphs/listings/
COPY --from=build /app/subgraphs/stocks/dist subgraphs/stocks/dist
COPY subgraphs/stocks/schema.graphql subgraphs/stocks/
COPY --from=build /app/workers/price-fetcher/dist workers/price-fetcher/dist
COPY --from=build /app/workers/price-ingestor/dist workers/price-ingestor/dist
COPY --from=build /app/subgraphs/orders/dist subgraphs/orders/dist
COPY subgraphs/orders/schema.graphql subgraphs/orders/
# Both of the notifications package's processes: dist/index.js (subgraph) and dist/notifier/index.js.
COPY --from=build /app/subgraphs/notifications/dist subgraphs/notifications/dist
COPY subgraphs/notifications/schema.graphql subgraphs/notifications/
COPY --from=build /app/workers/verifier/dist workers/verifier/dist
COPY --from=build /app/workers/verification-api/dist workers/verification-api/dist
COPY --from=build /app/scripts/dist scripts/dist
COPY data/price_data.csv data/
USER node
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# No --enable-source-maps: it keeps the parsed source map of every module loaded, dependencies
# included (17 MB more live heap for a service, which each major GC marks). The bundles are not
# minified, so their stack traces read as they are; NODE_OPTIONS=--enable-source-maps maps them
# back to the TypeScript sources when wanted.
# --no-memory-reducer: V8 takes steady light load for idleness and runs back-to-back compacting
# collections (30-50 ms pauses in the gateway); docs/deployment.md. Tests and benchmarks read the
# flags from this line.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--no-memory-reducer"]
CMD ["gateway/dist/index.js"]
