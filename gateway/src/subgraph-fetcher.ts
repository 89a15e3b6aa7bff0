import type { Fetcher, FetcherRequestInit, FetcherResponse } from '@apollo/utils.fetcher';
import { Histogram, type Registry } from 'prom-client';
import { inSpan, REQUEST_ID_HEADER, SpanKind, traceHeaders } from '@brokerage/common';
import { Agent, fetch, Response } from 'undici';

export interface SubgraphFetcherOptions {
  maxSockets: number;
  timeoutMs: number;
  registry: Registry;
  /** Identical reads in flight at once share one HTTP call (on unless turned off). */
  shareInFlight?: boolean;
}

/** A subgraph's answer, read once and handed to every request that waited for it. */
interface SharedAnswer {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: string;
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

/**
 * The gateway's HTTP client for subgraph calls: keep-alive connections capped per origin (no
 * handshake per call, no unbounded socket growth under load) and a latency histogram per subgraph.
 *
 * Identical read calls in flight at the same moment share one HTTP call (Hive Gateway does the
 * same): under load many clients ask for the same page, and the gateway would otherwise send each
 * subgraph the same query tens of times at once. This is not a cache: an answer is shared only
 * by calls that started while it was being fetched, and is forgotten when it arrives. Each call
 * keeps its span; one that joined another's HTTP call says so (`subgraph.shared`).
 */
export function createSubgraphFetcher({
  maxSockets,
  timeoutMs,
  registry,
  shareInFlight = true,
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
  const inFlight = new Map<string, Promise<SharedAnswer>>();

  const forSubgraph = (subgraph: string): Fetcher => {
    /** One HTTP call, in the active span (whose trace headers it carries). */
    const call = async (url: string, init?: FetcherRequestInit) => {
      const stop = latency.startTimer({ subgraph });
      try {
        const headers = { ...init?.headers, ...traceHeaders() };
        const response = await fetch(url, { ...init, headers, dispatcher: agent });
        stop({ outcome: response.ok ? 'ok' : `http_${response.status}` });
        return response;
      } catch (error) {
        stop({ outcome: 'error' });
        throw error;
      }
    };
    const fetcher = (url: string, init?: FetcherRequestInit): Promise<FetcherResponse> =>
      inSpan(
        'gateway',
        `subgraph ${subgraph}`,
        { kind: SpanKind.CLIENT, attributes: { subgraph } },
        async (span) => {
          const key = shareInFlight ? sharingKey(url, init) : undefined;
          if (key === undefined) return call(url, init);
          let answer = inFlight.get(key);
          span.setAttribute('subgraph.shared', answer !== undefined);
          if (!answer) {
            // Without the first caller's abort signal: its going away must not fail the others.
            answer = call(url, { ...init, signal: undefined }).then(async (response) => ({
              status: response.status,
              statusText: response.statusText,
              headers: [...response.headers],
              body: await response.text(),
            }));
            inFlight.set(key, answer);
            const forget = () => inFlight.delete(key);
            answer.then(forget, forget);
          }
          const { status, statusText, headers, body } = await answer;
          return new Response(body, { status, statusText, headers });
        },
      );
    return fetcher;
  };
  return { forSubgraph, close: () => agent.close() };
}
