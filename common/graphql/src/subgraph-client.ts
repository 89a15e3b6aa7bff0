import { GraphQLError } from 'graphql';
import { Agent, request } from 'undici';
import { codedError, ErrorCode, inSpan, SpanKind, traceHeaders } from '@brokerage/service';
import { CALLER_TOKEN_HEADER, type InternalTokens } from '@brokerage/auth';
import { REQUEST_ID_HEADER } from './request-context';

interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/**
 * Keep-alive connections to the other subgraphs, shared by every client of the process.
 *
 * undici's `request` rather than `fetch`: fetch builds WHATWG streams, a cloned body and abort
 * signals for every call, and an `AbortSignal.timeout` keeps all of it reachable until its timer
 * fires, long after the call. On the orders service (two calls per buy, one per outcome) that
 * garbage reaches the old generation, whose collections pause the buy-result stream
 * (bench/README.md, "Buy result delivery").
 */
const agent = new Agent({ keepAliveTimeout: 30_000 });

/**
 * A service-to-service GraphQL call to another subgraph (never through the gateway). A coded
 * error from the callee comes back as a GraphQLError with that code; a callee that cannot be
 * reached, times out or fails internally becomes DEPENDENCY_UNAVAILABLE.
 */
export class SubgraphClient {
  constructor(
    private readonly service: string,
    private readonly url: string,
    private readonly timeoutMs: number,
    /** Signs this service's own credential: the callee sees the calling service, not a user. */
    private readonly tokens: InternalTokens,
  ) {}

  request<T>(query: string, variables: Record<string, unknown>, requestId?: string): Promise<T> {
    return inSpan(this.tokens.signer, `call ${this.service}`, { kind: SpanKind.CLIENT }, () =>
      this.send<T>(query, variables, requestId),
    );
  }

  private async send<T>(query: string, variables: Record<string, unknown>, requestId?: string): Promise<T> {
    let body: GraphQLBody<T>;
    // The whole call, answer read, within the timeout; the timer goes as soon as it is done.
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new Error(`no answer within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    try {
      const response = await request(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [CALLER_TOKEN_HEADER]: await this.tokens.signAsService(),
          ...traceHeaders(),
          ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}),
        },
        body: JSON.stringify({ query, variables }),
        signal: deadline.signal,
        dispatcher: agent,
      });
      body = (await response.body.json()) as GraphQLBody<T>;
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      if (!ok && !body.errors?.length) throw new Error(`HTTP ${response.statusCode}`);
    } catch (error) {
      throw this.unavailable(error);
    } finally {
      clearTimeout(timer);
    }
    const first = body.errors?.[0];
    if (first) {
      const code = first.extensions?.code;
      // A domain answer (USER_NOT_FOUND, BAD_USER_INPUT, ...) is passed on; a failure of the callee, or
      // a query it rejects as invalid (a bug on this side), is not the client's business.
      if (code && code !== ErrorCode.INTERNAL_SERVER_ERROR && !code.startsWith('GRAPHQL_')) {
        throw new GraphQLError(first.message, { extensions: { code } });
      }
      throw this.unavailable(new Error(first.message));
    }
    if (!body.data) throw this.unavailable(new Error('no data'));
    return body.data;
  }

  private unavailable(cause: unknown) {
    return codedError(
      ErrorCode.DEPENDENCY_UNAVAILABLE,
      `The ${this.service} service is unavailable; try again shortly`,
      {
        cause: cause instanceof Error ? cause.message : String(cause),
      },
    );
  }
}
