import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import { CALLER_TOKEN_HEADER, InternalTokens } from './auth/internal-tokens';
import { internalAuthConfig } from './auth/settings';
import { baseConfigSchema } from './config';
import type { OpsRoutesOptions, ReadinessCheck } from './health';
import type { Logger } from './logger';
import { createMetrics, type ServiceMetrics } from './metrics';
import { createDataSource, openDatabase, postgresReadiness } from './postgres';
import { stopInOrder, type Stoppable } from './process';
import { formatErrorFor } from './graphql-error-format';
import { observabilityPlugin } from './graphql-observability-plugin';
import { startGraphQLHttpServer, type GraphQLHttpServer } from './graphql-server';
import type { RequestContext } from './request-context';

/** The settings every subgraph has: the base ones and the secret of the platform's caller tokens. */
export const subgraphConfigSchema = baseConfigSchema.extend(internalAuthConfig);

export interface SubgraphOptions<C extends RequestContext> {
  service: string;
  typeDefs: string;
  /** Verifies the caller token every request must carry: subgraphs are reached through the gateway only. */
  internalTokens: InternalTokens;
  // The generated resolver types are stricter than what @apollo/subgraph accepts; both describe the same map.
  resolvers: object;
  context: (base: RequestContext, req: IncomingMessage) => Promise<C>;
  port: number;
  host: string;
  nodeEnv: string;
  logger: Logger;
  metrics: ServiceMetrics;
  ops: OpsRoutesOptions;
  /** Extra public routes served before GraphQL (no caller token): e.g. the users service's JWKS. */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** A federation subgraph served over HTTP with the platform's error handling, metrics and ops routes. */
export async function startSubgraphServer<C extends RequestContext>(
  options: SubgraphOptions<C>,
): Promise<GraphQLHttpServer> {
  const schema = buildSubgraphSchema([
    { typeDefs: parse(options.typeDefs), resolvers: options.resolvers as GraphQLResolverMap<C> },
  ]);
  return startGraphQLHttpServer<C>({
    service: options.service,
    port: options.port,
    host: options.host,
    logger: options.logger,
    ops: { registry: options.metrics.registry, ...options.ops },
    authenticate: (req) => options.internalTokens.verify(headerValue(req, CALLER_TOKEN_HEADER)),
    context: options.context,
    routes: options.routes,
    apollo: (drainPlugin) =>
      new ApolloServer<C>({
        schema,
        // Subgraphs are reached by the gateway only; no explorer here.
        plugins: [
          drainPlugin,
          observabilityPlugin<C>(options.metrics),
          ApolloServerPluginLandingPageDisabled(),
          // Traces are for Apollo's hosted studio, which this platform does not report to.
          ApolloServerPluginInlineTraceDisabled(),
        ],
        formatError: formatErrorFor(options.nodeEnv),
        includeStacktraceInErrorResponses: options.nodeEnv !== 'production',
        logger: options.logger,
      }),
  });
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface DatabaseSubgraphConfig {
  INTERNAL_AUTH_SECRET: string;
  PORT: number;
  HOST: string;
  NODE_ENV: string;
  DATABASE_URL: string;
  DB_POOL_SIZE: number;
}

export interface DatabaseSubgraphOptions<C extends RequestContext> {
  service: string;
  config: DatabaseSubgraphConfig;
  logger: Logger;
  typeDefs: string;
  resolvers: object;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<EntitySchema | Function>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function>;
  /** Given the opened database, returns how to build one request's context. */
  context: (dataSource: DataSource) => (base: RequestContext) => C;
  /** Other dependencies the service holds (e.g. Redis): checked by `/ready`, closed after HTTP on stop. */
  dependencies?: Array<{ name: string; ready: ReadinessCheck; close: () => Promise<unknown> }>;
  /** Extra public routes served before GraphQL (no caller token). */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface RunningSubgraph extends Stoppable {
  url: string;
}

/**
 * A subgraph that owns one PostgreSQL database: creates and migrates the database, serves the
 * schema with `/ready` checking the database, and on stop drains HTTP before closing the pool.
 */
export async function startDatabaseSubgraph<C extends RequestContext>(
  options: DatabaseSubgraphOptions<C>,
): Promise<RunningSubgraph> {
  const { config, logger, dependencies = [] } = options;
  const metrics = createMetrics(options.service);
  const dataSource = await openDatabase(
    createDataSource({
      url: config.DATABASE_URL,
      entities: options.entities,
      migrations: options.migrations,
      logger,
      metrics,
      poolSize: config.DB_POOL_SIZE,
    }),
    config.DATABASE_URL,
  );
  const contextFor = options.context(dataSource);
  const server = await startSubgraphServer<C>({
    service: options.service,
    internalTokens: new InternalTokens(config.INTERNAL_AUTH_SECRET, options.service),
    typeDefs: options.typeDefs,
    resolvers: options.resolvers,
    context: async (base) => contextFor(base),
    port: config.PORT,
    host: config.HOST,
    nodeEnv: config.NODE_ENV,
    logger,
    metrics,
    routes: options.routes,
    ops: {
      checks: {
        postgres: postgresReadiness(dataSource),
        ...Object.fromEntries(dependencies.map(({ name, ready }) => [name, ready])),
      },
    },
  }).catch(async (error: unknown) => {
    await dataSource.destroy();
    throw error;
  });
  return {
    url: server.url,
    stop: () =>
      stopInOrder(
        [
          ['http', () => server.stop()],
          ['postgres', () => dataSource.destroy()],
          ...dependencies.map(({ name, close }): [string, () => Promise<unknown>] => [name, close]),
        ],
        logger,
      ),
  };
}
