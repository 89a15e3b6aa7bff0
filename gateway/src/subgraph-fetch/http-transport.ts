import { Histogram, type Registry } from 'prom-client';
import { traceHeaders } from '@brokerage/service';
import { Agent, request } from 'undici';
import { SubgraphAnswer, type SubgraphFetch } from './subgraph-call';

export interface SubgraphTransportOptions {
  maxSockets: number;
  timeoutMs: number;
  registry: Registry;
}

/**
 * The gateway's HTTP client for subgraph calls: keep-alive connections capped per origin (no
 * handshake per call, no unbounded socket growth under load) and a latency histogram per subgraph.
 * It calls with undici's `request` rather than `fetch`, which builds WHATWG streams, a tee of the
 * request body and a Request per call: garbage that outlives young collections and makes the
 * gateway's old generation grow under load (see bench/README.md). What it hands back is the
 * answer read in full, with plain headers: no fetch Response, no Headers object per call.
 */
export class SubgraphTransport {
  private readonly agent: Agent;
  private readonly latency: Histogram;

  constructor({ maxSockets, timeoutMs, registry }: SubgraphTransportOptions) {
    this.agent = new Agent({
      connections: maxSockets,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    this.latency = new Histogram({
      name: 'subgraph_fetch_duration_seconds',
      help: 'Time for one subgraph call made by the gateway',
      labelNames: ['subgraph', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  }

  /** One subgraph's HTTP calls: each in the active span (whose trace headers it carries), read in full. */
  poster(subgraph: string): SubgraphFetch {
    const { agent, latency } = this;
    return async (url, { headers, body }) => {
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
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
