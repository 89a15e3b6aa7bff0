import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { AuthenticationError, type Caller } from '@brokerage/auth';
import { ErrorCode, extractTraceContext, inSpan, type Logger, sendJson, SpanKind } from '@brokerage/service';
import { REQUEST_ID_HEADER, requestIdFrom, type RequestContext } from './request-context';

// One HTTP request to the GraphQL path, from the socket to Apollo and back: who is asking, the
// body within its limit, the request in the service's trace, the answer streamed back.

class BodyTooLargeError extends Error {}

/**
 * How much of a body over the limit is read and thrown away, as a multiple of the limit. A client
 * still sending when the connection closes can get a reset instead of the answer, so a body up to
 * this size is read to its end before the 413; past it, reading stops and the connection closes
 * after the answer.
 */
const DISCARDED_BODY_FACTOR = 10;

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes * DISCARDED_BODY_FACTOR) throw new BodyTooLargeError();
    if (size <= maxBytes) chunks.push(chunk as Buffer);
  }
  if (size > maxBytes) throw new BodyTooLargeError();
  return Buffer.concat(chunks);
}

/** A GraphQL-shaped error answer, for refusals made before any GraphQL runs. */
export function graphqlErrorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

export interface GraphQLRequestHandlerOptions<C extends RequestContext> {
  /** The service's name, for its traces. */
  service: string;
  apollo: ApolloServer<C>;
  /** The GraphQL path, for the request's span name. */
  path: string;
  authenticate: (req: IncomingMessage) => Promise<Caller>;
  context: (base: RequestContext, req: IncomingMessage) => Promise<C>;
  logger: Logger;
  maxBodyBytes: number;
  /** Whether the server is stopping: answers then ask the client to close the connection. */
  closing: () => boolean;
}

/** Reads the request body within the limit; answers (and returns undefined) when it cannot. */
async function bodyOf(
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
): Promise<{ body: unknown } | undefined> {
  if (req.method !== 'POST') return { body: undefined };
  let raw: Buffer;
  try {
    raw = await readBody(req, maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      // The rest of the body may still be on its way: this connection cannot carry another
      // request, so the answer says so (Connection: close) and the connection closes after it.
      res.shouldKeepAlive = false;
      sendJson(
        res,
        413,
        graphqlErrorBody(`Request body is larger than ${maxBodyBytes} bytes`, 'PAYLOAD_TOO_LARGE'),
      );
      return undefined;
    }
    throw error;
  }
  const contentType = req.headers['content-type'] ?? '';
  if (
    !contentType.startsWith('application/json') &&
    !contentType.startsWith('application/graphql-response+json')
  )
    return { body: raw.toString('utf8') };
  try {
    return { body: raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8')) };
  } catch {
    sendJson(res, 400, graphqlErrorBody('Request body is not valid JSON', 'BAD_REQUEST'));
    return undefined;
  }
}

/** Answers one GraphQL request (`search` is the URL's query string) through Apollo. */
export function graphqlRequestHandler<C extends RequestContext>(options: GraphQLRequestHandlerOptions<C>) {
  const { apollo, path, logger } = options;
  return async (req: IncomingMessage, res: ServerResponse, search: string): Promise<void> => {
    const requestId = requestIdFrom(req.headers);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    let caller: Caller;
    try {
      caller = await options.authenticate(req);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      req.resume();
      res.setHeader('www-authenticate', 'Bearer');
      sendJson(res, 401, graphqlErrorBody(error.message, ErrorCode.UNAUTHENTICATED));
      return;
    }
    const read = await bodyOf(req, res, options.maxBodyBytes);
    if (!read) return;
    const headers = new HeaderMap();
    const plainHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      const joined = Array.isArray(value) ? value.join(', ') : value;
      headers.set(name, joined);
      plainHeaders[name] = joined;
    }
    const result = await inSpan(
      options.service,
      `${req.method ?? 'GET'} ${path}`,
      {
        kind: SpanKind.SERVER,
        parent: extractTraceContext(req.headers),
        attributes: { 'request.id': requestId },
      },
      () =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body: read.body },
          context: () =>
            options.context(
              { requestId, logger: logger.child({ requestId }), headers: plainHeaders, caller },
              req,
            ),
        }),
    );
    for (const [name, value] of result.headers) res.setHeader(name, value);
    res.statusCode = result.status ?? 200;
    // Answered while stopping: tell the client not to send another request on this connection.
    if (options.closing()) res.shouldKeepAlive = false;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
