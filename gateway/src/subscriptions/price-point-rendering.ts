import { fromExchangeMoment } from '@brokerage/price-fetcher-contract';
import { type PricePointsEvent } from '@brokerage/price-ingestor-contract';
import { executeSync, type DocumentNode, type ExecutionArgs } from 'graphql';
import type { SubscriptionResult } from './subscriber-read';

/** A point as the API renders `PricePoint`. */
export interface PricePoint {
  symbol: string;
  price: number;
  at: string;
}

/**
 * Turns announcements into points and points into results, each once however many subscribers
 * hear them: the client's selection runs against a point with the API schema (aliases, fragments,
 * `__typename` behave as for a query), with no read through the subgraphs.
 */
export function createPricePointRendering(timeZone: string) {
  /** The points of an announcement, made once for every subscriber that hears it. */
  const pointsOf = new WeakMap<PricePointsEvent, PricePoint[]>();
  const eventPoints = (event: PricePointsEvent): PricePoint[] => {
    let points = pointsOf.get(event);
    if (!points) {
      points = event.time.map((time, index) => ({
        symbol: event.symbol,
        price: event.price[index]!,
        at: fromExchangeMoment({ date: event.date, time }, timeZone).toISOString(),
      }));
      pointsOf.set(event, points);
    }
    return points;
  };
  /**
   * A point rendered for an operation (its document, shared by every subscription of the same text,
   * and its variables): subscribers of the same operation share one execution per point.
   */
  const rendered = new WeakMap<PricePoint, WeakMap<DocumentNode, Map<string, SubscriptionResult>>>();
  const render = (point: PricePoint, args: ExecutionArgs, variablesKey: string): SubscriptionResult => {
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
  return { eventPoints, render };
}
