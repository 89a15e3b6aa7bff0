import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import {
  createLogger,
  createMetrics,
  formatErrorFor,
  observabilityPlugin,
  startGraphQLHttpServer,
  stopInOrder,
  type Logger,
  type RequestContext,
} from '@brokerage/common';
import type { GatewayConfig } from './config';
import { createExplorerRoutes } from './explorer';
import { OrderStatusFeed } from './subscriptions/order-status-feed';
import { attachSubscriptionServer } from './subscriptions/subscription-server';
import { SubgraphDataSource } from './subgraph-data-source';
import { createSubgraphFetcher } from './subgraph-fetcher';
import { loadSupergraph } from './supergraph';

export type GatewayContext = RequestContext;

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
  });

  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.sdl,
    experimental_approximateQueryPlanStoreMiB: config.QUERY_PLAN_CACHE_MIB,
    logger: logger.child({ component: 'apollo-gateway' }),
    buildService: ({ name, url }) =>
      new SubgraphDataSource({ url: config.SUBGRAPH_URLS[name] ?? url, fetcher: fetcher.forSubgraph(name) }),
  });

  const graphqlPath = '/graphql';
  let listening = false;
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: loaded }) => {
    apiSchema = loaded;
  });
  let apollo: ApolloServer<GatewayContext> | undefined;
  const feed = new OrderStatusFeed(config.REDIS_URL, config.ORDER_STATUS_CHANNEL_PREFIX, logger);
  const explorer = config.EXPLORER_ENABLED ? createExplorerRoutes('/graphiql', graphqlPath) : undefined;
  const server = await startGraphQLHttpServer<GatewayContext>({
    port: config.PORT,
    host: config.HOST,
    path: graphqlPath,
    logger,
    maxBodyBytes: config.MAX_BODY_BYTES,
    context: async (base) => base,
    routes: explorer,
    ops: {
      registry: metrics.registry,
      // The server listens only once the gateway has loaded the supergraph; ready means loaded.
      checks: {
        supergraph: async () => (listening ? undefined : Promise.reject(new Error('not loaded'))),
        redis: () => feed.ready(),
      },
    },
    apollo: (drainPlugin) =>
      (apollo = new ApolloServer<GatewayContext>({
        gateway,
        introspection: config.INTROSPECTION_ENABLED,
        includeStacktraceInErrorResponses: config.NODE_ENV !== 'production',
        formatError: formatErrorFor(config.NODE_ENV),
        logger: logger.child({ component: 'apollo-server' }),
        plugins: [
          drainPlugin,
          observabilityPlugin<GatewayContext>(metrics),
          config.EXPLORER_ENABLED
            ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
            : ApolloServerPluginLandingPageDisabled(),
        ],
      })),
  }).catch(async (error: unknown) => {
    await Promise.all([fetcher.close(), feed.close()]);
    throw error;
  });
  const subscriptions = attachSubscriptionServer({
    httpServer: server.httpServer,
    path: graphqlPath,
    apollo: () => apollo!,
    schema: () => apiSchema!,
    feed,
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
        ],
        logger,
      ),
  };
}
