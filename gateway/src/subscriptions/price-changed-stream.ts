import { codedError, fromExchangeMoment, type PricePointsEvent } from '@brokerage/common';
import {
  executeSync,
  GraphQLError,
  Kind,
  parse,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PricePointsFeed } from './price-points-feed';

type Result = ExecutionResult<Record<string, unknown>>;

/** The most stocks one subscription may watch (the stocks subgraph's own limit per request). */
export const MAX_PRICE_SYMBOLS = 50;
const SYMBOL = /^[A-Za-z0-9_]{1,32}$/;

/** A point as the API renders `PricePoint`. */
interface PricePoint {
  symbol: string;
  price: number;
  at: string;
}

/** The latest point of each stock, read through the gateway (the stocks subgraph owns both). */
const LATEST: DocumentNode = parse(
  'query PriceChangedLatest($symbols: [String!]!) { stocksBySymbols(symbols: $symbols) { symbol lastPrice lastPriceAt } }',
);

/** Runs a read through the gateway as the subscriber; only the first is charged to the read budget. */
export type SubscriberRead = (
  document: DocumentNode,
  variables: Record<string, unknown>,
  paid: boolean,
) => Promise<Result>;

export interface PriceChangedStreamsOptions {
  feed: PricePointsFeed;
  /** The minute of a point is exchange time: it becomes an instant in this zone. */
  timeZone: string;
  registry: Registry;
}

function badInput(message: string) {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function operationOf(args: ExecutionArgs): OperationDefinitionNode | undefined {
  const operations = args.document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  return args.operationName
    ? operations.find(({ name }) => name?.value === args.operationName)
    : operations[0];
}

/** Whether a subscription operation is `priceChanged` (its one root field). */
export function isPriceChanged(args: ExecutionArgs): boolean {
  const [field] = operationOf(args)?.selectionSet.selections ?? [];
  return field?.kind === Kind.FIELD && field.name.value === 'priceChanged';
}

function symbolsOf(node: ValueNode, variables: ExecutionArgs['variableValues']): unknown {
  if (node.kind === Kind.VARIABLE) return variables?.[node.name.value];
  if (node.kind === Kind.LIST) return node.values.map((value) => symbolsOf(value, variables));
  if (node.kind === Kind.STRING) return node.value;
  return undefined;
}

/**
 * `priceChanged(symbols)`, served by the gateway: the latest point of each stock, read through the
 * gateway from the stocks subgraph (which also tells an unknown symbol), then every new minute
 * point the price ingestor announces on the stocks' Redis channels. The stocks are watched before
 * the first read, so a point written between the two is not missed; a point no newer than what a
 * client was sent for its stock (a repeat, or a correction of an earlier minute) is not sent. The
 * client's selection runs against each point with the API schema (aliases, fragments,
 * `__typename` behave as for a query), with no read through the subgraphs.
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

  /** The points of an announcement, made once for every subscriber that hears it. */
  const pointsOf = new WeakMap<PricePointsEvent, PricePoint[]>();
  const eventPoints = (event: PricePointsEvent): PricePoint[] => {
    let points = pointsOf.get(event);
    if (!points) {
      points = event.time.map((time, index) => ({
        symbol: event.symbol,
        price: event.price[index]!,
        at: fromExchangeMoment({ date: event.date, time }, options.timeZone).toISOString(),
      }));
      pointsOf.set(event, points);
    }
    return points;
  };
  /**
   * A point rendered for an operation (its document, shared by every subscription of the same text,
   * and its variables): subscribers of the same operation share one execution per point.
   */
  const rendered = new WeakMap<PricePoint, WeakMap<DocumentNode, Map<string, Result>>>();
  const render = (point: PricePoint, args: ExecutionArgs, variablesKey: string): Result => {
    let byDocument = rendered.get(point);
    if (!byDocument) {
      byDocument = new WeakMap();
      rendered.set(point, byDocument);
    }
    let byVariables = byDocument.get(args.document);
    if (!byVariables) {
      byVariables = new Map();
      byDocument.set(args.document, byVariables);
    }
    let result = byVariables.get(variablesKey);
    if (!result) {
      result = executeSync({
        schema: args.schema,
        document: args.document,
        operationName: args.operationName,
        variableValues: args.variableValues ?? undefined,
        rootValue: { priceChanged: point },
      });
      byVariables.set(variablesKey, result);
    }
    return result;
  };

  return function priceChangedStream(
    args: ExecutionArgs,
    read: SubscriberRead,
  ): AsyncIterableIterator<Result> | Result {
    const operation = operationOf(args)!;
    const [field, ...others] = operation.selectionSet.selections;
    if (others.length > 0 || field?.kind !== Kind.FIELD)
      return { errors: [badInput('A subscription selects exactly one field: priceChanged')] };
    const argument = field.arguments?.find(({ name }) => name.value === 'symbols');
    const asked = argument ? symbolsOf(argument.value, args.variableValues) : undefined;
    if (!Array.isArray(asked) || asked.some((symbol) => typeof symbol !== 'string'))
      return { errors: [badInput('priceChanged needs a list of symbols')] };
    const symbols = [...new Set((asked as string[]).map((symbol) => symbol.toLowerCase()))];
    if (symbols.length > MAX_PRICE_SYMBOLS)
      return {
        errors: [
          codedError('TOO_MANY_SYMBOLS', `At most ${MAX_PRICE_SYMBOLS} symbols per subscription`, {
            limit: MAX_PRICE_SYMBOLS,
          }),
        ],
      };
    if (symbols.length === 0) return { errors: [badInput('priceChanged needs at least one symbol')] };
    if (symbols.some((symbol) => !SYMBOL.test(symbol)))
      return { errors: [badInput('each symbol must be 1 to 32 letters, digits or underscores')] };

    const variablesKey = `${args.operationName ?? ''} ${JSON.stringify(args.variableValues ?? {})}`;
    let done = false;
    let wake: (() => void) | undefined;
    let readNeeded = true;
    let firstRead = true;
    /** Points to send, oldest first; a newer price of a minute already waiting replaces it. */
    const pending: PricePoint[] = [];
    /** Per stock: the instant and price of the last point sent. */
    const sent = new Map<string, { at: number; price: number }>();
    const unwatch: Array<() => void> = [];

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
      wake?.();
    };
    // Watch before the first read, so that a point written between the two is not missed.
    const watching = Promise.all(symbols.map((symbol) => feed.watch(symbol, onPoints))).then((stops) => {
      if (done) for (const stop of stops) stop();
      else unwatch.push(...stops);
    });
    open += 1;

    const finish = (): IteratorResult<Result> => {
      if (!done) {
        done = true;
        open -= 1;
        for (const stop of unwatch) stop();
        wake?.();
      }
      return { done: true, value: undefined };
    };
    let failed: Result | undefined;

    /** Reads the latest point of every stock; queues those newer than what was sent. */
    async function readLatest(): Promise<void> {
      readNeeded = false;
      const result = await read(LATEST, { symbols }, !firstRead);
      firstRead = false;
      const stocks = result.data?.stocksBySymbols as
        Array<{ symbol: string; lastPrice: number | null; lastPriceAt: string | null } | null> | undefined;
      if (!stocks) {
        failed = {
          errors: result.errors?.length ? result.errors : [codedError('INTERNAL_SERVER_ERROR', 'no prices')],
        };
        return;
      }
      const unknown = symbols.filter((_, index) => !stocks[index]);
      if (unknown.length > 0) {
        failed = {
          errors: [
            codedError('STOCK_NOT_FOUND', `No stock has the symbol ${unknown.join(', ')}`, {
              symbols: unknown,
            }),
          ],
        };
        return;
      }
      // The latest points go first, ahead of announcements that arrived during the read.
      const latest: PricePoint[] = [];
      for (const stock of stocks) {
        if (typeof stock?.lastPrice === 'number' && stock.lastPriceAt)
          latest.push({ symbol: stock.symbol, price: stock.lastPrice, at: stock.lastPriceAt });
      }
      pending.unshift(...latest);
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

    const iterator: AsyncIterableIterator<Result> = {
      [Symbol.asyncIterator]: () => iterator,
      async next(): Promise<IteratorResult<Result>> {
        if (done) return finish();
        await watching;
        for (;;) {
          if (done) return finish();
          if (failed) {
            const value = failed;
            finish();
            return { done: false, value };
          }
          if (readNeeded) {
            await readLatest();
            continue;
          }
          const point = nextPoint();
          if (point) {
            delivered.inc();
            return {
              done: false,
              value: render(point, args, variablesKey),
            };
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      },
      async return(): Promise<IteratorResult<Result>> {
        return finish();
      },
      async throw(error: unknown): Promise<IteratorResult<Result>> {
        finish();
        throw error;
      },
    };
    return iterator;
  };
}
