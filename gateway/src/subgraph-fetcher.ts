import { Histogram, type Registry } from 'prom-client';
import { inSpan, REQUEST_ID_HEADER, SpanKind, traceHeaders } from '@brokerage/common';
import { Agent, request } from 'undici';

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

/** One POST of a GraphQL operation to a subgraph: its headers (lower-case names) and JSON body. */
export interface SubgraphCall {
  headers: Record<string, string>;
  body: string;
}

/** Response headers as undici's `request` gives them: lower-case names, a repeated one as an array. */
export type AnswerHeaders = Record<string, string | string[] | undefined>;

/** A 2xx status. */
const succeeded = (status: number): boolean => status >= 200 && status < 300;

/**
 * A subgraph's answer, read in full. A batch's part is handed over already parsed (its call is
 * the only one that reads it first); any other reader parses the text, so no two calls ever hold
 * the same objects (the gateway merges into what it is given).
 */
export class SubgraphAnswer {
  private parsed: unknown;

  constructor(
    readonly status: number,
    readonly headers: AnswerHeaders,
    readonly body: string,
    parsed?: unknown,
  ) {
    this.parsed = parsed;
  }

  get ok(): boolean {
    return succeeded(this.status);
  }

  /** A header's value, repeated values joined as fetch's `Headers.get` joins them. */
  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** The body as JSON: objects of this call's own. */
  json(): unknown {
    const parsed = this.parsed;
    if (parsed === undefined) return JSON.parse(this.body) as unknown;
    this.parsed = undefined;
    return parsed;
  }
}

/** How the gateway's data sources call one subgraph. */
export type SubgraphFetch = (url: string, call: SubgraphCall) => Promise<SubgraphAnswer>;

// Only read operations are shared: the query planner writes them as `query ...` or `{...}`, and
// the data source serialises `query` first. Anything else (a mutation) goes alone.
const READ_OPERATION = /^\{"query":"(?:query\b|\{)/;

/**
 * What makes two subgraph calls the same call: URL, body and every header but the request id
 * (which only labels logs). The caller token is a header, so calls of different callers are
 * never shared: no answer crosses from one user to another. (Trace headers are added later, per
 * HTTP call, and are not part of it either.)
 */
function sharingKey(url: string, { headers, body }: SubgraphCall): string | undefined {
  if (!READ_OPERATION.test(body)) return undefined;
  return `${url}\n${headerKey(headers, REQUEST_ID_HEADER)}\n${body}`;
}

/** The headers as one string, in a fixed order, without the one named `except`. */
function headerKey(headers: Record<string, string>, except?: string): string {
  return Object.keys(headers)
    .filter((name) => name !== except)
    .sort()
    .map((name) => `${name}:${headers[name]}`)
    .join('\n');
}

// An entity fetch as the query planner writes it and the data source serialises it: the
// representations are its only variable, `_entities` its only field. The selection is what follows.
const ENTITIES_QUERY =
  // eslint-disable-next-line security/detect-unsafe-regex -- anchored at both ends with no nested repetition over the same characters: linear in the query's length
  /^query(?: ([_A-Za-z][_0-9A-Za-z]*))?\(\$representations:\[_Any!\]!\)\{_entities\(representations:\$representations\)(\{.*\})\}$/s;

interface EntitiesCall {
  operationName: string | undefined;
  selection: string;
  representations: unknown[];
  resolve: (answer: SubgraphAnswer) => void;
  reject: (error: unknown) => void;
}

/** An entity fetch's parts, or undefined for any other call (which goes as it is). */
function entitiesCall({ body }: SubgraphCall) {
  if (!body.startsWith('{"query":"query') || !body.includes('_entities(representations:$representations)')) {
    return undefined;
  }
  const request = JSON.parse(body) as {
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
  send: (url: string, call: SubgraphCall) => Promise<SubgraphAnswer>;
  url: string;
  call: SubgraphCall;
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

/**
 * Each call's part of a batch's answer, parsed once: a part goes to its call as objects, with its
 * text beside for any other reader.
 */
function splitAnswer(answer: SubgraphAnswer, count: number): SubgraphAnswer[] {
  let body: GraphQLBody | undefined;
  try {
    body = JSON.parse(answer.body) as GraphQLBody;
  } catch {
    // Not JSON: every call gets it as it is, and its data source reports it.
  }
  if (!body || typeof body !== 'object' || !answer.ok) {
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
    return new SubgraphAnswer(answer.status, answer.headers, JSON.stringify(part), part);
  });
}

/**
 * The gateway's HTTP client for subgraph calls: keep-alive connections capped per origin (no
 * handshake per call, no unbounded socket growth under load) and a latency histogram per subgraph.
 * It calls with undici's `request` rather than `fetch`, which builds WHATWG streams, a tee of the
 * request body and a Request per call: garbage that outlives young collections and makes the
 * gateway's old generation grow under load (see bench/README.md). What it hands back is the
 * answer read in full, with plain headers: no fetch Response, no Headers object per call.
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
  const inFlight = new Map<string, Promise<SubgraphAnswer>>();
  /** Entity fetches waiting for the loop's next turn, by subgraph, URL and headers. */
  const batches = new Map<string, Batch>();
  const flush = () => {
    const pending = [...batches.values()];
    batches.clear();
    for (const { send, url, call, calls } of pending) {
      if (calls.length === 1) {
        send(url, call).then(calls[0]!.resolve, calls[0]!.reject);
        continue;
      }
      // One call speaks for all.
      send(url, { headers: call.headers, body: mergedBody(calls) }).then(
        (answer) => splitAnswer(answer, calls.length).forEach((part, i) => calls[i]!.resolve(part)),
        (error: unknown) => calls.forEach(({ reject }) => reject(error)),
      );
    }
  };

  const forSubgraph = (subgraph: string): SubgraphFetch => {
    /** One HTTP call, in the active span (whose trace headers it carries), read in full. */
    const post = async (url: string, { headers, body }: SubgraphCall): Promise<SubgraphAnswer> => {
      const started = performance.now();
      const observe = (outcome: string) =>
        latency.observe({ subgraph, outcome }, (performance.now() - started) / 1_000);
      try {
        const response = await request(url, {
          method: 'POST',
          headers: { ...headers, ...traceHeaders() },
          body,
          dispatcher: agent,
        });
        const answer = new SubgraphAnswer(response.statusCode, response.headers, await response.body.text());
        observe(answer.ok ? 'ok' : `http_${answer.status}`);
        return answer;
      } catch (error) {
        observe('error');
        throw error;
      }
    };
    /** One call, or its part of a batch of entity fetches. */
    const send = (url: string, call: SubgraphCall): Promise<SubgraphAnswer> => {
      const entities = batchEntities ? entitiesCall(call) : undefined;
      if (!entities) return post(url, call);
      const key = `${subgraph}\n${url}\n${headerKey(call.headers)}`;
      return new Promise<SubgraphAnswer>((resolve, reject) => {
        const batch = batches.get(key);
        if (batch) batch.calls.push({ ...entities, resolve, reject });
        else batches.set(key, { send: post, url, call, calls: [{ ...entities, resolve, reject }] });
        if (batches.size === 1 && !batch) setImmediate(flush);
      });
    };
    return (url, call) =>
      inSpan(
        'gateway',
        `subgraph ${subgraph}`,
        { kind: SpanKind.CLIENT, attributes: { subgraph } },
        async (span) => {
          const key = shareInFlight ? sharingKey(url, call) : undefined;
          if (key === undefined) return send(url, call);
          const shared = inFlight.get(key);
          span.setAttribute('subgraph.shared', shared !== undefined);
          if (shared) return shared;
          const answer = send(url, call);
          inFlight.set(key, answer);
          const forget = () => inFlight.delete(key);
          answer.then(forget, forget);
          return answer;
        },
      );
  };
  return { forSubgraph, close: () => agent.close() };
}
