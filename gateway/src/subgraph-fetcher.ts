import type { Fetcher } from '@apollo/utils.fetcher';
import { Histogram, type Registry } from 'prom-client';
import { inSpan, SpanKind, traceHeaders } from '@brokerage/common';
import { Agent, fetch } from 'undici';

export interface SubgraphFetcherOptions {
  maxSockets: number;
  timeoutMs: number;
  registry: Registry;
}

/**
 * The gateway's HTTP client for subgraph calls: keep-alive connections capped per origin (no
 * handshake per call, no unbounded socket growth under load) and a latency histogram per subgraph.
 */
export function createSubgraphFetcher({ maxSockets, timeoutMs, registry }: SubgraphFetcherOptions) {
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

  const forSubgraph = (subgraph: string): Fetcher => {
    const fetcher = (url: string, init?: Parameters<Fetcher>[1]) =>
      inSpan(
        'gateway',
        `subgraph ${subgraph}`,
        { kind: SpanKind.CLIENT, attributes: { subgraph } },
        async () => {
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
        },
      );
    return fetcher;
  };
  return { forSubgraph, close: () => agent.close() };
}
