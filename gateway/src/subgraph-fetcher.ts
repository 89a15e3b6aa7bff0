import { STATUS_CODES } from 'node:http';
import type { Fetcher, FetcherRequestInit, FetcherResponse } from '@apollo/utils.fetcher';
import { Histogram, type Registry } from 'prom-client';
import { inSpan, REQUEST_ID_HEADER, SpanKind, traceHeaders } from '@brokerage/common';
import { Agent, Headers, request } from 'undici';

export interface SubgraphFetcherOptions {
  maxSockets: number;
  timeoutMs: number;
  registry: Registry;
  /** Identical reads in flight at once share one HTTP call (on unless turned off). */
  shareInFlight?: boolean;
  /**
   * Entity fetches of one operation to one subgraph that start together go as one HTTP call (on
   * unless turned off).
   */
  batchEntities?: boolean;
}

/** A subgraph's answer, read in full (and, for a shared call, handed to every call that waited for it). */
interface Answer {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/** A 2xx status, as fetch's `Response.ok` says. */
const succeeded = (status: number): boolean => status >= 200 && status < 300;

/**
 * What the gateway's data sources read of a fetch Response, over an answer already read: its
 * status, headers and body, once.
 */
class SubgraphResponse implements FetcherResponse {
  readonly redirected = false;
  readonly headers: Headers;
  private used = false;

  constructor(
    readonly url: string,
    private readonly answer: Answer,
  ) {
    this.headers = new Headers(answer.headers);
  }

  get status(): number {
    return this.answer.status;
  }

  get statusText(): string {
    return STATUS_CODES[this.answer.status] ?? '';
  }

  get ok(): boolean {
    return succeeded(this.answer.status);
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  async text(): Promise<string> {
    if (this.used) throw new TypeError('Body is unusable: it has already been read');
    this.used = true;
    return this.answer.body;
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return new TextEncoder().encode(await this.text()).buffer;
  }

  clone(): SubgraphResponse {
    if (this.used) throw new TypeError('Response.clone: the body has already been read');
    return new SubgraphResponse(this.url, this.answer);
  }
}

/** Response headers as undici's `request` gives them (a repeated header as an array). */
function headerPairs(headers: Record<string, string | string[] | undefined>): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value) pairs.push([name, item]);
    else if (value !== undefined) pairs.push([name, value]);
  }
  return pairs;
}

// Only read operations are shared: the query planner writes them as `query ...` or `{...}`, and
// RemoteGraphQLDataSource serialises `query` first. Anything else (a mutation) goes alone.
const READ_OPERATION = /^\{"query":"(?:query\b|\{)/;

/**
 * What makes two subgraph calls the same call: URL, body and every header but the request id
 * (which only labels logs). The caller token is a header, so calls of different callers are
 * never shared: no answer crosses from one user to another. (Trace headers are added later, per
 * HTTP call, and are not part of it either.)
 */
function sharingKey(url: string, init: FetcherRequestInit | undefined): string | undefined {
  if (!init || init.method !== 'POST' || typeof init.body !== 'string' || !READ_OPERATION.test(init.body)) {
    return undefined;
  }
  const headers = Object.entries(init.headers ?? {})
    .filter(([name]) => name.toLowerCase() !== REQUEST_ID_HEADER)
    .map(([name, value]) => `${name.toLowerCase()}:${value}`)
    .sort()
    .join('\n');
  return `${url}\n${headers}\n${init.body}`;
}

// An entity fetch as the query planner writes it and RemoteGraphQLDataSource serialises it: the
// representations are its only variable, `_entities` its only field. The selection is what follows.
const ENTITIES_QUERY =
  // eslint-disable-next-line security/detect-unsafe-regex -- anchored at both ends with no nested repetition over the same characters: linear in the query's length
  /^query(?: ([_A-Za-z][_0-9A-Za-z]*))?\(\$representations:\[_Any!\]!\)\{_entities\(representations:\$representations\)(\{.*\})\}$/s;

interface EntitiesCall {
  operationName: string | undefined;
  selection: string;
  representations: unknown[];
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
}

/** An entity fetch's parts, or undefined for any other call (which goes as it is). */
function entitiesCall(init: FetcherRequestInit | undefined) {
  if (!init || init.method !== 'POST' || typeof init.body !== 'string') return undefined;
  if (
    !init.body.startsWith('{"query":"query') ||
    !init.body.includes('_entities(representations:$representations)')
  ) {
    return undefined;
  }
  const request = JSON.parse(init.body) as {
    query: string;
    variables?: { representations?: unknown };
    operationName?: string;
    extensions?: unknown;
  };
  const match = ENTITIES_QUERY.exec(request.query);
  const representations = request.variables?.representations;
  if (!match || !Array.isArray(representations) || request.extensions !== undefined) return undefined;
  if (Object.keys(request.variables!).length !== 1) return undefined;
  return { operationName: match[1], selection: match[2]!, representations };
}

/** Entity fetches to send together, and how to send a call to their subgraph. */
interface Batch {
  call: (url: string, init: FetcherRequestInit) => Promise<Answer>;
  url: string;
  init: FetcherRequestInit;
  calls: EntitiesCall[];
}

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ path?: Array<string | number> } & Record<string, unknown>>;
  extensions?: unknown;
}

/**
 * Several entity fetches as one operation, each `_entities` under an alias of its own (`_0`,
 * `_1`...) with its own representations, and the answer split back: each call's data, and the
 * errors on its alias (path renamed back to `_entities`) or on none.
 */
function mergedBody(calls: EntitiesCall[]): string {
  const definitions = calls.map((_, i) => `$r${i}:[_Any!]!`).join(',');
  const fields = calls
    .map(({ selection }, i) => `_${i}:_entities(representations:$r${i})${selection}`)
    .join(' ');
  const name = calls[0]!.operationName;
  return JSON.stringify({
    query: `query${name ? ` ${name}__batch` : ''}(${definitions}){${fields}}`,
    variables: Object.fromEntries(calls.map(({ representations }, i) => [`r${i}`, representations])),
    ...(name ? { operationName: `${name}__batch` } : {}),
  });
}

function splitAnswer(answer: Answer, count: number): Answer[] {
  let body: GraphQLBody | undefined;
  try {
    body = JSON.parse(answer.body) as GraphQLBody;
  } catch {
    // Not JSON: every call gets it as it is, and its data source reports it.
  }
  if (!body || typeof body !== 'object' || !succeeded(answer.status)) {
    return Array.from({ length: count }, () => answer);
  }
  return Array.from({ length: count }, (_, i) => {
    const alias = `_${i}`;
    const errors = body.errors
      ?.filter(({ path }) => path === undefined || path[0] === alias)
      .map((error) => (error.path ? { ...error, path: ['_entities', ...error.path.slice(1)] } : error));
    const part: GraphQLBody = {
      data: body.data ? { _entities: body.data[alias] ?? null } : body.data,
      ...(errors && errors.length > 0 ? { errors } : {}),
      ...(body.extensions !== undefined ? { extensions: body.extensions } : {}),
    };
    return { ...answer, body: JSON.stringify(part) };
  });
}

/**
 * The gateway's HTTP client for subgraph calls: keep-alive connections capped per origin (no
 * handshake per call, no unbounded socket growth under load) and a latency histogram per subgraph.
 * It calls with undici's `request` rather than `fetch`, which builds WHATWG streams, a tee of the
 * request body and a Request per call: garbage that outlives young collections and makes the
 * gateway's old generation grow under load (see bench/README.md).
 *
 * Identical read calls in flight at the same moment share one HTTP call (Hive Gateway does the
 * same): under load many clients ask for the same page, and the gateway would otherwise send each
 * subgraph the same query tens of times at once. This is not a cache: an answer is shared only
 * by calls that started while it was being fetched, and is forgotten when it arrives. Each call
 * keeps its span; one that joined another's HTTP call says so (`subgraph.shared`).
 *
 * Entity fetches that a query plan runs in parallel on one subgraph (the stocks of a user's
 * holdings and of their orders, say) start in the same turn of the event loop with the same
 * headers (caller and request id): they go as one operation, one HTTP call, which the subgraph
 * parses, validates and resolves once, its loaders batching the entities of both. The calls are
 * collected until the loop's next turn (`setImmediate`); a call alone goes as it was.
 */
export function createSubgraphFetcher({
  maxSockets,
  timeoutMs,
  registry,
  shareInFlight = true,
  batchEntities = true,
}: SubgraphFetcherOptions) {
  const agent = new Agent({
    connections: maxSockets,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const latency = new Histogram({
    name: 'subgraph_fetch_duration_seconds',
    help: 'Time for one subgraph call made by the gateway',
    labelNames: ['subgraph', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const inFlight = new Map<string, Promise<Answer>>();
  /** Entity fetches waiting for the loop's next turn, by subgraph, URL and headers. */
  const batches = new Map<string, Batch>();
  const flush = () => {
    const pending = [...batches.values()];
    batches.clear();
    for (const { call, url, init, calls } of pending) {
      if (calls.length === 1) {
        call(url, init).then(calls[0]!.resolve, calls[0]!.reject);
        continue;
      }
      // One call speaks for all: without the first's abort signal, so that its going away does
      // not fail the others.
      call(url, { ...init, signal: undefined, body: mergedBody(calls) }).then(
        (answer) => splitAnswer(answer, calls.length).forEach((part, i) => calls[i]!.resolve(part)),
        (error: unknown) => calls.forEach(({ reject }) => reject(error)),
      );
    }
  };

  const forSubgraph = (subgraph: string): Fetcher => {
    /** One HTTP call, in the active span (whose trace headers it carries), read in full. */
    const call = async (url: string, init?: FetcherRequestInit): Promise<Answer> => {
      const stop = latency.startTimer({ subgraph });
      try {
        const response = await request(url, {
          method: (init?.method ?? 'GET') as 'GET' | 'POST',
          headers: { ...init?.headers, ...traceHeaders() },
          body: init?.body,
          signal: init?.signal as AbortSignal | undefined,
          dispatcher: agent,
        });
        const answer = {
          status: response.statusCode,
          headers: headerPairs(response.headers),
          body: await response.body.text(),
        };
        stop({ outcome: succeeded(answer.status) ? 'ok' : `http_${answer.status}` });
        return answer;
      } catch (error) {
        stop({ outcome: 'error' });
        throw error;
      }
    };
    /** One call, or its part of a batch of entity fetches. */
    const send = (url: string, init?: FetcherRequestInit): Promise<Answer> => {
      const entities = batchEntities ? entitiesCall(init) : undefined;
      if (!entities) return call(url, init);
      const key = `${subgraph}\n${url}\n${Object.entries(init!.headers ?? {})
        .map(([name, value]) => `${name.toLowerCase()}:${value}`)
        .sort()
        .join('\n')}`;
      return new Promise<Answer>((resolve, reject) => {
        const batch = batches.get(key);
        if (batch) batch.calls.push({ ...entities, resolve, reject });
        else batches.set(key, { call, url, init: init!, calls: [{ ...entities, resolve, reject }] });
        if (batches.size === 1 && !batch) setImmediate(flush);
      });
    };
    const fetcher = (url: string, init?: FetcherRequestInit): Promise<FetcherResponse> =>
      inSpan(
        'gateway',
        `subgraph ${subgraph}`,
        { kind: SpanKind.CLIENT, attributes: { subgraph } },
        async (span) => {
          const key = shareInFlight ? sharingKey(url, init) : undefined;
          if (key === undefined) return new SubgraphResponse(url, await send(url, init));
          let answer = inFlight.get(key);
          span.setAttribute('subgraph.shared', answer !== undefined);
          if (!answer) {
            // Without the first caller's abort signal: its going away must not fail the others.
            answer = send(url, { ...init, signal: undefined });
            inFlight.set(key, answer);
            const forget = () => inFlight.delete(key);
            answer.then(forget, forget);
          }
          return new SubgraphResponse(url, await answer);
        },
      );
    return fetcher;
  };
  return { forSubgraph, close: () => agent.close() };
}
