import { Repeater } from '@repeaterjs/repeater';
import { codedError } from '@brokerage/service';
import { type PricePointsEvent } from '@brokerage/price-ingestor-contract';
import { parse, type DocumentNode, type ExecutionArgs } from 'graphql';
import { Counter, Gauge, type Registry } from 'prom-client';
import { priceChangedSymbols } from './price-changed-arguments';
import { createPricePointRendering, type PricePoint } from './price-point-rendering';
import type { PricePointsFeed } from './price-points-feed';
import type { SubscriptionResult } from './subscriber-read';

/** The latest point of each stock, read through the gateway (the stocks subgraph owns both). */
const LATEST: DocumentNode = parse(
  'query PriceChangedLatest($symbols: [String!]!) { stocksBySymbols(symbols: $symbols) { symbol lastPrice lastPriceAt } }',
);

/** Runs a read through the gateway as the subscriber; only the first is charged to the read budget. */
export type SubscriberRead = (
  document: DocumentNode,
  variables: Record<string, unknown>,
  paid: boolean,
) => Promise<SubscriptionResult>;

export interface PriceChangedStreamsOptions {
  feed: PricePointsFeed;
  /** The minute of a point is exchange time: it becomes an instant in this zone. */
  timeZone: string;
  registry: Registry;
}

type LatestStocks = Array<{ symbol: string; lastPrice: number | null; lastPriceAt: string | null } | null>;

/**
 * `priceChanged(symbols)`, served by the gateway: the latest point of each stock, read through the
 * gateway from the stocks subgraph (which also tells an unknown symbol), then every new minute
 * point the price ingestor announces on the stocks' Redis channels. The stocks are watched before
 * the first read, so a point written between the two is not missed; a point no newer than what a
 * client was sent for its stock (a repeat, or a correction of an earlier minute) is not sent.
 */
export function createPriceChangedStreams(options: PriceChangedStreamsOptions) {
  const { feed } = options;
  let open = 0;
  new Gauge({
    name: 'price_changed_subscriptions_open',
    help: 'priceChanged subscriptions open on this gateway',
    registers: [options.registry],
    collect(this: Gauge) {
      this.set(open);
    },
  });
  const delivered = new Counter({
    name: 'price_points_delivered_total',
    help: 'priceChanged results sent to subscribers',
    registers: [options.registry],
  });
  const { eventPoints, render } = createPricePointRendering(options.timeZone);

  return function priceChangedStream(
    args: ExecutionArgs,
    read: SubscriberRead,
  ): Repeater<SubscriptionResult> | SubscriptionResult {
    const asked = priceChangedSymbols(args);
    if (!Array.isArray(asked)) return asked;
    const symbols: string[] = asked;
    const variablesKey = `${args.operationName ?? ''} ${JSON.stringify(args.variableValues ?? {})}`;

    // A Repeater, not an async generator: graphql-ws ends a subscription with `return()`, which
    // must finish at once even while the stream waits for the next point.
    return new Repeater<SubscriptionResult>(async (push, stop) => {
      let stopped = false;
      let wake = () => {};
      let readNeeded = true;
      let firstRead = true;
      /** Points to send, oldest first; a newer price of a minute already waiting replaces it. */
      const pending: PricePoint[] = [];
      /** Per stock: the instant and price of the last point sent. */
      const sent = new Map<string, { at: number; price: number }>();

      const enqueue = (point: PricePoint) => {
        const waiting = pending.findIndex(({ symbol, at }) => symbol === point.symbol && at === point.at);
        if (waiting >= 0) pending[waiting] = point;
        else pending.push(point);
      };
      const onPoints = (event: PricePointsEvent | undefined) => {
        if (!event) {
          readNeeded = true;
        } else {
          for (const point of eventPoints(event)) enqueue(point);
        }
        wake();
      };

      /** Reads the latest point of every stock and queues them; the errors that end the stream, if any. */
      async function readLatest(): Promise<SubscriptionResult | undefined> {
        readNeeded = false;
        const result = await read(LATEST, { symbols }, !firstRead);
        firstRead = false;
        const stocks = result.data?.stocksBySymbols as LatestStocks | undefined;
        if (!stocks)
          return {
            errors: result.errors?.length
              ? result.errors
              : [codedError('INTERNAL_SERVER_ERROR', 'no prices')],
          };
        const unknown = symbols.filter((_, index) => !stocks[index]);
        if (unknown.length > 0)
          return {
            errors: [
              codedError('STOCK_NOT_FOUND', `No stock has the symbol ${unknown.join(', ')}`, {
                symbols: unknown,
              }),
            ],
          };
        // The latest points go first, ahead of announcements that arrived during the read.
        const latest: PricePoint[] = [];
        for (const stock of stocks) {
          if (typeof stock?.lastPrice === 'number' && stock.lastPriceAt)
            latest.push({ symbol: stock.symbol, price: stock.lastPrice, at: stock.lastPriceAt });
        }
        pending.unshift(...latest);
        return undefined;
      }

      /** The next point newer than what its stock was sent, or undefined. */
      function nextPoint(): PricePoint | undefined {
        while (pending.length > 0) {
          const point = pending.shift()!;
          const at = Date.parse(point.at);
          const last = sent.get(point.symbol);
          if (last && (at < last.at || (at === last.at && point.price === last.price))) continue;
          sent.set(point.symbol, { at, price: point.price });
          return point;
        }
        return undefined;
      }

      open += 1;
      void stop.then(() => {
        stopped = true;
        open -= 1;
        wake();
      });
      // Watch before the first read, so that a point written between the two is not missed.
      const unwatch = await Promise.all(symbols.map((symbol) => feed.watch(symbol, onPoints)));
      void stop.then(() => {
        for (const stopWatching of unwatch) stopWatching();
      });

      while (!stopped) {
        if (readNeeded) {
          const failed = await readLatest();
          if (failed) {
            await push(failed);
            break;
          }
          continue;
        }
        const point = nextPoint();
        if (point) {
          delivered.inc();
          await push(render(point, args, variablesKey));
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
      stop();
    });
  };
}
