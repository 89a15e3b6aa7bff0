import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { InternalTokens } from '@brokerage/auth';
import { observabilityPlugin, startGraphQLHttpServer } from '@brokerage/graphql';
import { closeRedis, createRedis, redisReadiness } from '@brokerage/redis';
import { createLogger, createMetrics, stopInOrder, type Logger } from '@brokerage/service';
import type { GatewayConfig } from './config';
import { createExplorerRoutes } from './explorer';
import type { GatewayContext } from './gateway-context';
import { OrderStatusFeed } from './subscriptions/order-status-feed';
import { PricePointsFeed } from './subscriptions/price-points-feed';
import { attachSubscriptionServer } from './subscriptions/subscription-server';
import { SubgraphDataSource } from './subgraph-data-source';
import { createSubgraphFetcher } from './subgraph-fetcher';
import { loadSupergraph } from './supergraph';
import { Authenticator } from './security/authentication';
import { CostBudget } from './security/cost-budget';
import { mutationRateLimitPlugin } from './security/mutation-rate-limit';
import { operationLimitRules } from './security/operation-limits';
import { createJwksRoute } from './security/jwks-route';
import { gatewayErrorFormatter } from './security/production-errors';
import { RateLimiter } from './security/rate-limiter';
import { readBudgetPlugin } from './security/read-budget';
import { signInLimitPlugin } from './security/sign-in-limit';

export interface RunningGateway {
  url: string;
  stop(): Promise<void>;
}

/** The public API: Apollo Gateway over the composed supergraph, with the explorers in development. */
export async function start(
  config: GatewayConfig,
  logger: Logger = createLogger({ service: 'gateway' }),
): Promise<RunningGateway> {
  const supergraph = loadSupergraph(config.SUPERGRAPH_PATH, config.SUBGRAPH_URLS);
  const metrics = createMetrics('gateway');
  const fetcher = createSubgraphFetcher({
    maxSockets: config.SUBGRAPH_MAX_SOCKETS,
    timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
    registry: metrics.registry,
    shareInFlight: config.SUBGRAPH_SHARE_IN_FLIGHT,
    batchEntities: config.SUBGRAPH_BATCH_ENTITIES,
  });

  const authenticator = new Authenticator(config);
  const limitRules = operationLimitRules({
    maxDepth: config.MAX_DEPTH,
    maxAliases: config.MAX_ALIASES,
    maxCost: config.MAX_COST,
  });
  const internalTokens = new InternalTokens(config.INTERNAL_AUTH_SECRET, 'gateway');
  // Limits are checked on the request path: with Redis away they are skipped at once. Every query
  // spends its read budget here: the spends of requests that arrive together share a write.
  const redis = createRedis({
    url: config.REDIS_URL,
    keyPrefix: '',
    logger,
    failFast: true,
    autoPipelining: true,
  });
  const rateLimiter = new RateLimiter(redis, {
    limit: config.RATE_LIMIT_MUTATIONS,
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    keyPrefix: config.RATE_LIMIT_KEY_PREFIX,
  });
  const signInLimits = {
    perUsername: new RateLimiter(redis, {
      limit: config.SIGN_IN_ATTEMPTS_PER_USERNAME,
      windowMs: config.SIGN_IN_WINDOW_MS,
      keyPrefix: `${config.RATE_LIMIT_KEY_PREFIX}sign-in:username:`,
    }),
    perAddress: new RateLimiter(redis, {
      limit: config.SIGN_IN_ATTEMPTS_PER_ADDRESS,
      windowMs: config.SIGN_IN_WINDOW_MS,
      keyPrefix: `${config.RATE_LIMIT_KEY_PREFIX}sign-in:address:`,
    }),
  };
  const readBudget = new CostBudget(redis, {
    limit: config.RATE_LIMIT_READ_POINTS,
    windowMs: config.RATE_LIMIT_READ_WINDOW_MS,
    keyPrefix: `${config.RATE_LIMIT_KEY_PREFIX}read:`,
  });

  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.sdl,
    experimental_approximateQueryPlanStoreMiB: config.QUERY_PLAN_CACHE_MIB,
    logger: logger.child({ component: 'apollo-gateway' }),
    buildService: ({ name, url }) =>
      new SubgraphDataSource({
        url: config.SUBGRAPH_URLS[name] ?? url ?? '',
        fetch: fetcher.forSubgraph(name),
        tokens: internalTokens,
      }),
  });

  const graphqlPath = '/graphql';
  let listening = false;
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: loaded }) => {
    apiSchema = loaded;
  });
  let apollo: ApolloServer<GatewayContext> | undefined;
  const feed = new OrderStatusFeed(config.REDIS_URL, config.ORDER_STATUS_CHANNEL_PREFIX, logger);
  const priceFeed = new PricePointsFeed(config.REDIS_URL, config.PRICE_POINTS_CHANNEL_PREFIX, logger);
  const explorer = config.EXPLORER_ENABLED ? createExplorerRoutes('/graphiql', graphqlPath) : undefined;
  const jwks = createJwksRoute(authenticator, logger);
  const server = await startGraphQLHttpServer<GatewayContext>({
    service: 'gateway',
    port: config.PORT,
    host: config.HOST,
    path: graphqlPath,
    logger,
    maxBodyBytes: config.MAX_BODY_BYTES,
    authenticate: (req) => authenticator.fromRequest(req),
    context: async (base, req) => ({ ...base, clientAddress: authenticator.clientAddress(req) }),
    routes: (req, res) => jwks(req, res) || (explorer?.(req, res) ?? false),
    ops: {
      registry: metrics.registry,
      // The server listens only once the gateway has loaded the supergraph; ready means loaded.
      checks: {
        supergraph: async () => (listening ? undefined : Promise.reject(new Error('not loaded'))),
        redis: () => feed.ready(),
        'redis-prices': () => priceFeed.ready(),
        'redis-commands': redisReadiness(redis),
      },
    },
    apollo: (drainPlugin) =>
      (apollo = new ApolloServer<GatewayContext>({
        gateway,
        introspection: config.INTROSPECTION_ENABLED,
        // Refused before planning: too many tokens (parse), too deep, too many aliases, too costly.
        parseOptions: { maxTokens: config.MAX_TOKENS },
        validationRules: limitRules,
        // Batched HTTP operations stay refused (Apollo's default); CSRF prevention stays on.
        allowBatchedHttpRequests: false,
        csrfPrevention: true,
        includeStacktraceInErrorResponses: config.NODE_ENV !== 'production',
        formatError: gatewayErrorFormatter(config.NODE_ENV),
        logger: logger.child({ component: 'apollo-server' }),
        // runService owns SIGTERM and SIGINT and stops the parts in order; Apollo's own handler
        // (registered unless NODE_ENV is test) would stop the server beside it and leave the stop hanging.
        stopOnTerminationSignals: false,
        plugins: [
          drainPlugin,
          observabilityPlugin<GatewayContext>(metrics),
          mutationRateLimitPlugin<GatewayContext>(rateLimiter, logger, metrics.registry),
          signInLimitPlugin<GatewayContext>(signInLimits, logger, metrics.registry),
          readBudgetPlugin<GatewayContext>(readBudget, logger, metrics.registry),
          config.EXPLORER_ENABLED
            ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
            : ApolloServerPluginLandingPageDisabled(),
        ],
      })),
  }).catch(async (error: unknown) => {
    await Promise.all([fetcher.close(), feed.close(), priceFeed.close(), closeRedis(redis)]);
    throw error;
  });
  const subscriptions = attachSubscriptionServer({
    httpServer: server.httpServer,
    path: graphqlPath,
    apollo: () => apollo!,
    authenticator,
    validationRules: limitRules,
    maxTokens: config.MAX_TOKENS,
    maxPayloadBytes: config.MAX_BODY_BYTES,
    schema: () => apiSchema!,
    feed,
    priceFeed,
    exchangeTimeZone: config.EXCHANGE_TIME_ZONE,
    logger: logger.child({ component: 'subscriptions' }),
    registry: metrics.registry,
  });
  listening = true;

  logger.info(
    {
      subgraphs: Object.fromEntries(
        [...supergraph.subgraphs].map(([name, url]) => [name, config.SUBGRAPH_URLS[name] ?? url]),
      ),
    },
    'gateway ready',
  );
  return {
    url: server.url,
    stop: () =>
      stopInOrder(
        [
          // Sockets first (closed with 1001, going away), then in-flight HTTP requests drain.
          ['websockets', () => subscriptions.dispose()],
          ['http', () => server.stop()],
          ['subgraph connections', () => fetcher.close()],
          ['redis', () => feed.close()],
          ['redis prices', () => priceFeed.close()],
          ['redis commands', () => closeRedis(redis)],
        ],
        logger,
      ),
  };
}
