import type { Registry } from 'prom-client';
import { inSpan, SpanKind } from '@brokerage/service';
import { EntityBatches } from './subgraph-fetch/entity-batches';
import { SubgraphTransport } from './subgraph-fetch/http-transport';
import { InFlightReads, sharingKey } from './subgraph-fetch/in-flight-reads';
import type { SubgraphFetch } from './subgraph-fetch/subgraph-call';

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

/**
 * How the gateway calls its subgraphs, each call in a span of its own: over keep-alive HTTP
 * (SubgraphTransport), entity fetches that start together batched into one operation
 * (EntityBatches), and identical reads in flight at the same moment sharing one HTTP call
 * (InFlightReads; Hive Gateway does the same): under load many clients ask for the same page, and
 * the gateway would otherwise send each subgraph the same query tens of times at once. A call that
 * joined another's HTTP call says so in its span (`subgraph.shared`).
 */
export function createSubgraphFetcher({
  maxSockets,
  timeoutMs,
  registry,
  shareInFlight = true,
  batchEntities = true,
}: SubgraphFetcherOptions) {
  const transport = new SubgraphTransport({ maxSockets, timeoutMs, registry });
  const batches = new EntityBatches();
  const inFlight = new InFlightReads();

  const forSubgraph = (subgraph: string): SubgraphFetch => {
    const post = transport.poster(subgraph);
    /** One call, or its part of a batch of entity fetches. */
    const send = batchEntities ? batches.sender(subgraph, post) : post;
    return (url, call) =>
      inSpan(
        'gateway',
        `subgraph ${subgraph}`,
        { kind: SpanKind.CLIENT, attributes: { subgraph } },
        async (span) => {
          const key = shareInFlight ? sharingKey(url, call) : undefined;
          if (key === undefined) return send(url, call);
          const shared = inFlight.joinable(key);
          span.setAttribute('subgraph.shared', shared !== undefined);
          if (shared) return shared;
          const answer = send(url, call);
          inFlight.track(key, answer);
          return answer;
        },
      );
  };
  return { forSubgraph, close: () => transport.close() };
}
