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
import { CALLER_TOKEN_HEADER, internalAuthConfig, InternalTokens } from '@brokerage/auth';
import type { Registry } from 'prom-client';
import {
  baseConfigSchema,
  createMetrics,
  failureOf,
  type Logger,
  type OpsRoutesOptions,
  readinessOf,
  type ServiceMetrics,
  type ServicePart,
  StartedParts,
  stopInOrder,
  stopTogether,
  type Stoppable,
} from '@brokerage/service';
import { createDataSource, openDatabase, postgresReadiness } from '@brokerage/postgres';
import {
  formatErrorFor,
  type GraphQLHttpServer,
  observabilityPlugin,
  type RequestContext,
  startGraphQLHttpServer,
} from '@brokerage/graphql';

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
        // runService owns SIGTERM and SIGINT and stops the parts in order (consumers before
        // HTTP); Apollo's own handler (registered unless NODE_ENV is test) would drain HTTP out of turn.
        stopOnTerminationSignals: false,
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

/** What a database subgraph builds its request context and background parts with. */
export interface SubgraphKit {
  metrics: ServiceMetrics;
  registry: Registry;
  logger: Logger;
  /** The service's caller token: verifies the gateway's calls, and signs the calls it makes. */
  internalTokens: InternalTokens;
  /**
   * A background part (clients, an outbox relay, a sweep): started in order before HTTP serves,
   * stopped after HTTP has drained, so that what the last requests wrote is still handled.
   */
  addPart(part: ServicePart): void;
  /** A consumer of other services' messages: started once HTTP serves, stopped (beside the other consumers) before it drains. */
  addConsumer(part: ServicePart): void;
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
  /**
   * Given the opened database, returns how to build one request's context; what else the service
   * runs beside HTTP it adds to the kit.
   */
  context: (dataSource: DataSource, kit: SubgraphKit) => (base: RequestContext) => C;
  /** Extra public routes served before GraphQL (no caller token). */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface RunningSubgraph extends Stoppable {
  url: string;
}

/**
 * A subgraph that owns one PostgreSQL database: creates and migrates the database, starts its
 * background parts, serves the schema with `/ready` checking the database and every part, then
 * starts its consumers. Stops in the order that loses nothing: consumers (no new work from other
 * services), HTTP drained, background parts (the outbox delivered), the database last.
 */
export async function startDatabaseSubgraph<C extends RequestContext>(
  options: DatabaseSubgraphOptions<C>,
): Promise<RunningSubgraph> {
  const { config, logger, service } = options;
  const metrics = createMetrics(service);
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
  const internalTokens = new InternalTokens(config.INTERNAL_AUTH_SECRET, service);
  const background: ServicePart[] = [];
  const consumers: ServicePart[] = [];
  const kit: SubgraphKit = {
    metrics,
    registry: metrics.registry,
    logger,
    internalTokens,
    addPart: (part) => background.push(part),
    addConsumer: (part) => consumers.push(part),
  };
  const started = new StartedParts(logger);
  let server: GraphQLHttpServer | undefined;
  try {
    const contextFor = options.context(dataSource, kit);
    const http: ServicePart = {
      name: 'http',
      start: async () => {
        server = await startSubgraphServer<C>({
          service,
          internalTokens,
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
              ...readinessOf([...background, ...consumers]),
            },
          },
        });
      },
      stop: async () => server?.stop(),
    };
    // The consumers as one part: started in turn, stopped side by side (each stop waits for its
    // consumer's fetch in flight, up to its maxWaitTimeInMs).
    const startedConsumers = new StartedParts(logger);
    const consumersPart: ServicePart = {
      name: 'consumers',
      start: () => startedConsumers.start(consumers),
      stop: () => stopTogether(startedConsumers.stopSteps(), logger),
    };
    await started.start([...background, http, consumersPart]);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  const failed = failureOf(consumers.concat(background));
  return {
    url: server!.url,
    ...(failed ? { failed } : {}),
    stop: () => stopInOrder([...started.stopSteps(), ['postgres', () => dataSource.destroy()]], logger),
  };
}
