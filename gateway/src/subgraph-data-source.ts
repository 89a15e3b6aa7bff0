import { STATUS_CODES } from 'node:http';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ANONYMOUS, CALLER_TOKEN_HEADER, type InternalTokens } from '@brokerage/auth';
import { REQUEST_ID_HEADER, type RequestContext } from '@brokerage/graphql';
import { ErrorCode } from '@brokerage/service';
import { GraphQLError } from 'graphql';
import type { SubgraphAnswer, SubgraphFetch } from './subgraph-fetch/subgraph-call';

// Codes a subgraph answers with HTTP 400 that are the client's fault and safe to pass on as they are.
const CLIENT_ERROR_CODES = new Set(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']);

type SubgraphResult = Awaited<ReturnType<GraphQLDataSource['process']>>;

interface SubgraphErrorBody {
  errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }>;
}

/** The cache hint a subgraph's Cache-Control header gives, as Apollo's RemoteGraphQLDataSource reads it. */
interface CacheHint {
  maxAge: number;
  scope?: 'PUBLIC' | 'PRIVATE';
}

function cacheHintOf(header: string | undefined): CacheHint {
  const hint: CacheHint = { maxAge: 0 };
  if (!header) return hint;
  for (const part of header.trim().split(/\s*,\s*/)) {
    const [name, value] = part.split(/\s*=\s*/, 2);
    if (name === 'max-age' && value !== undefined && /^[0-9]+$/.test(value.replace(/^"|"$/g, ''))) {
      hint.maxAge = Number(value.replace(/^"|"$/g, ''));
    }
    if (name === 'private' && value === undefined) hint.scope = 'PRIVATE';
    if (name === 'public' && value === undefined) hint.scope = 'PUBLIC';
  }
  return hint;
}

/**
 * A subgraph as the gateway calls it: forwards the caller (signed, so the subgraph knows the
 * request came through the gateway) and the request id, and turns a subgraph's HTTP 400 for
 * bad input into the subgraph's own coded error. The gateway sees custom scalars such as Money as
 * opaque, so only the owning subgraph can reject a malformed value, and a generic answer would
 * hide its message behind "400: Bad Request".
 *
 * It does what Apollo's RemoteGraphQLDataSource does for a plain POST (no automatic persisted
 * queries, which the gateway does not use), without its per-call node-fetch Headers and Request
 * (a URL parse and a body copy for a Request that only reaches error hooks) or a fetch Response:
 * headers are a plain object, the answer comes from the subgraph fetcher read in full.
 */
export class SubgraphDataSource implements GraphQLDataSource<RequestContext> {
  private readonly url: string;
  private readonly fetch: SubgraphFetch;
  private readonly tokens: InternalTokens;

  constructor(options: { url: string; fetch: SubgraphFetch; tokens: InternalTokens }) {
    this.url = options.url;
    this.fetch = options.fetch;
    this.tokens = options.tokens;
  }

  /**
   * A subgraph that cannot be reached, drops the connection or does not answer in time (a replica
   * that died or is starting, a network fault) is an outage the client waits out and retries:
   * DEPENDENCY_UNAVAILABLE, not an internal error. Answers the subgraph did give pass as they are.
   */
  async process(options: GraphQLDataSourceProcessOptions<RequestContext>): Promise<SubgraphResult> {
    try {
      return await this.call(options);
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      throw unavailable(error);
    }
  }

  private async call(options: GraphQLDataSourceProcessOptions<RequestContext>): Promise<SubgraphResult> {
    const { request } = options;
    if (!request.query) throw new Error('Missing query');
    // Context is partial for the gateway's own calls (e.g. health checks): those go as anonymous.
    const { requestId, caller } = options.context as Partial<RequestContext>;
    const headers: Record<string, string> = {};
    // Headers the gateway itself asks for (a trace of the subgraph's execution, when reporting).
    for (const [name, value] of request.http?.headers ?? []) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    headers[CALLER_TOKEN_HEADER] = await this.tokens.sign(caller ?? ANONYMOUS);
    // One id follows a request through every subgraph's logs.
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    const body = JSON.stringify({
      query: request.query,
      variables: request.variables,
      operationName: request.operationName,
      extensions: request.extensions,
    });

    const answer = await this.fetch(this.url, { headers, body });
    if (!answer.ok) throw errorFromAnswer(this.url, answer);
    const result = bodyOf(answer);
    if (typeof result !== 'object' || result === null) {
      throw new Error(`Expected JSON response body, but received: ${String(result)}`);
    }
    // The response's cache policy is the most restrictive of its subgraphs' answers.
    const policy: unknown =
      'incomingRequestContext' in options ? options.incomingRequestContext.overallCachePolicy : undefined;
    if (isRestrictable(policy)) policy.restrict(cacheHintOf(answer.header('cache-control')));
    return result;
  }
}

/** The answer as JSON if it says it is JSON, else its text, as fetch-based data sources read it. */
function bodyOf(answer: SubgraphAnswer): unknown {
  const type = answer.header('content-type');
  if (type?.startsWith('application/json') || type?.startsWith('application/graphql-response+json')) {
    return answer.json();
  }
  return answer.body;
}

function isRestrictable(policy: unknown): policy is { restrict(hint: CacheHint): void } {
  return typeof policy === 'object' && policy !== null && 'restrict' in policy;
}

/** A subgraph's HTTP error as the error the gateway reports. */
function errorFromAnswer(url: string, answer: SubgraphAnswer): GraphQLError {
  // A proxy or load balancer in front of the subgraph found no replica to answer.
  if (answer.status === 502 || answer.status === 503 || answer.status === 504) {
    return unavailable(new Error(`HTTP ${answer.status} from the subgraph`));
  }
  let body: unknown;
  try {
    body = bodyOf(answer);
  } catch {
    body = answer.body;
  }
  if (answer.status === 400) {
    const first = typeof body === 'object' ? (body as SubgraphErrorBody | null)?.errors?.[0] : undefined;
    const code = first?.extensions?.code;
    if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code) && typeof first?.message === 'string') {
      return new GraphQLError(first.message, { extensions: { code } });
    }
  }
  const statusText = STATUS_CODES[answer.status] ?? '';
  return new GraphQLError(`${answer.status}: ${statusText}`, {
    extensions: {
      response: { url, status: answer.status, statusText, body },
      ...(answer.status === 401 ? { code: 'UNAUTHENTICATED' } : {}),
      ...(answer.status === 403 ? { code: 'FORBIDDEN' } : {}),
    },
  });
}

function unavailable(cause: unknown): GraphQLError {
  return new GraphQLError('A service this operation needs is unavailable; try again shortly', {
    extensions: { code: ErrorCode.DEPENDENCY_UNAVAILABLE },
    originalError: cause instanceof Error ? cause : new Error(String(cause)),
  });
}
