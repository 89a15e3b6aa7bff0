import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import {
  ANONYMOUS,
  CALLER_TOKEN_HEADER,
  ErrorCode,
  REQUEST_ID_HEADER,
  type InternalTokens,
  type RequestContext,
} from '@brokerage/common';
import { GraphQLError } from 'graphql';

// Codes a subgraph answers with HTTP 400 that are the client's fault and safe to pass on as they are.
const CLIENT_ERROR_CODES = new Set(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']);

interface SubgraphErrorBody {
  errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }>;
}

/**
 * A subgraph as the gateway calls it: forwards the caller (signed, so the subgraph knows the
 * request came through the gateway) and the request id, and turns a subgraph's HTTP 400 for
 * bad input into the subgraph's own coded error. The gateway sees custom scalars such as Money as
 * opaque, so only the owning subgraph can reject a malformed value, and Apollo's default would
 * hide its answer behind a generic "400: Bad Request" internal error.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<RequestContext> {
  private readonly tokens: InternalTokens;

  constructor(options: { url?: string; fetcher: Fetcher; tokens: InternalTokens }) {
    super({ url: options.url, fetcher: options.fetcher });
    this.tokens = options.tokens;
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RequestContext>) {
    // Context is partial for the gateway's own calls (e.g. health checks): those go as anonymous.
    const { requestId, caller } = context as Partial<RequestContext>;
    request.http?.headers.set(CALLER_TOKEN_HEADER, await this.tokens.sign(caller ?? ANONYMOUS));
    // One id follows a request through every subgraph's logs.
    if (requestId) request.http?.headers.set(REQUEST_ID_HEADER, requestId);
  }

  /**
   * A subgraph that cannot be reached, drops the connection or does not answer in time (a replica
   * that died or is starting, a network fault) is an outage the client waits out and retries:
   * DEPENDENCY_UNAVAILABLE, not an internal error. Answers the subgraph did give pass as they are.
   */
  override async process(options: GraphQLDataSourceProcessOptions<RequestContext>) {
    try {
      return await super.process(options);
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      throw unavailable(error);
    }
  }

  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    // A proxy or load balancer in front of the subgraph found no replica to answer.
    if (response.status === 502 || response.status === 503 || response.status === 504) {
      return unavailable(new Error(`HTTP ${response.status} from the subgraph`));
    }
    if (response.status === 400) {
      const body = (await this.parseBody(response.clone())) as SubgraphErrorBody | string | undefined;
      const first = typeof body === 'object' ? body.errors?.[0] : undefined;
      const code = first?.extensions?.code;
      if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code) && typeof first?.message === 'string') {
        return new GraphQLError(first.message, { extensions: { code } });
      }
    }
    return super.errorFromResponse(response);
  }
}

function unavailable(cause: unknown): GraphQLError {
  return new GraphQLError('A service this operation needs is unavailable; try again shortly', {
    extensions: { code: ErrorCode.DEPENDENCY_UNAVAILABLE },
    originalError: cause instanceof Error ? cause : new Error(String(cause)),
  });
}
