import { minuteOf, quoteOrder, type TradeCancellation } from '@brokerage/price-fetcher-contract';
import { z } from 'zod';
import type { StockRef } from '../config';
import type { PriceMessage } from './price-source';
import type { TradeRow } from './tsetmc-answers';

/**
 * Where a stock's TSETMC feed stands: every trade of `session` numbered up to `nTran` has been
 * published (or passed over as cancelled), and the trades in `takenBack` have had their
 * cancellation published.
 */
export const sessionCheckpointSchema = z.object({
  session: z.string().regex(/^\d{8}$/),
  nTran: z.number().int().min(0),
  takenBack: z.array(z.number().int().min(1)),
});
export type SessionCheckpoint = z.infer<typeof sessionCheckpointSchema>;

/** One trade number as the rows list it. */
interface Trade {
  time: string;
  price: number;
  cancelled: boolean;
}

const timeOf = (hEven: number) => String(hEven).padStart(6, '0');

/**
 * The rows' trades by number. A trade listed twice is one trade; a cancelled trade is listed with
 * `canceled: 1` at its own time and may be listed again at the time of its cancellation, so its
 * time is the earliest it is listed at, and it is cancelled if any of its rows says so.
 */
function tradesOf(rows: TradeRow[]): Map<number, Trade> {
  const trades = new Map<number, Trade>();
  for (const row of rows) {
    const time = timeOf(row.hEven);
    const cancelled = row.canceled === 1;
    const known = trades.get(row.nTran);
    if (!known) {
      trades.set(row.nTran, { time, price: row.pTran, cancelled });
      continue;
    }
    if (time < known.time) known.time = time;
    if (cancelled) known.cancelled = true;
    else known.price = row.pTran;
  }
  return trades;
}

export interface LedgerStep {
  messages: PriceMessage[];
  checkpoint: SessionCheckpoint;
}

/**
 * What to publish from one listing of a session's trades, and the checkpoint after it.
 *
 * Trade numbers count up from 1 within a session, so the checkpoint is a trade number: the
 * listing's trades after it are published in number order, up to the first number the listing
 * lacks (a lagging feed lists a trade late; everything after the gap waits for it). A gap is
 * passed only when the listing holds at least `tradeCount` trades, the session's count: then the
 * number is one the exchange skipped. A trade listed again, or listed at or below the checkpoint,
 * is not published again. A cancelled trade is never published, and each cancelled trade up to the
 * checkpoint is taken back once, with the latest remaining trade of its minute.
 */
export function advance(
  stock: StockRef,
  rows: TradeRow[],
  checkpoint: SessionCheckpoint,
  tradeCount: number,
): LedgerStep {
  const trades = tradesOf(rows);
  let upTo = checkpoint.nTran;
  while (trades.has(upTo + 1)) upTo += 1;
  if (trades.size >= tradeCount) upTo = Math.max(upTo, ...trades.keys());

  const base = { stockId: stock.id, symbol: stock.symbol, date: checkpoint.session };
  const messages: PriceMessage[] = [];
  for (let nTran = checkpoint.nTran + 1; nTran <= upTo; nTran += 1) {
    const trade = trades.get(nTran);
    if (trade && !trade.cancelled) {
      messages.push({ quote: { ...base, time: trade.time, seq: nTran, price: trade.price } });
    }
  }

  const takenBack = new Set(checkpoint.takenBack);
  for (const [nTran, trade] of [...trades].sort(([a], [b]) => a - b)) {
    if (nTran > upTo || !trade.cancelled || takenBack.has(nTran)) continue;
    takenBack.add(nTran);
    messages.push({
      cancellation: {
        type: 'trade-cancelled',
        ...base,
        cancelled: { time: trade.time, seq: nTran },
        minuteLast: minuteLast(trades, minuteOf(trade.time), upTo),
      },
    });
  }
  return {
    messages,
    checkpoint: {
      session: checkpoint.session,
      nTran: upTo,
      takenBack: [...takenBack].sort((a, b) => a - b),
    },
  };
}

/** The latest trade of `minute` numbered up to `upTo` (published) and not cancelled, if any. */
function minuteLast(
  trades: Map<number, Trade>,
  minute: string,
  upTo: number,
): TradeCancellation['minuteLast'] {
  let last: TradeCancellation['minuteLast'] = null;
  for (const [nTran, trade] of trades) {
    if (nTran > upTo || trade.cancelled || minuteOf(trade.time) !== minute) continue;
    const candidate = { time: trade.time, seq: nTran, price: trade.price };
    if (!last || quoteOrder(candidate) > quoteOrder(last)) last = candidate;
  }
  return last;
}
