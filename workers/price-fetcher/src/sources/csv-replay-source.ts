import {
  DATE_PATTERN,
  minuteOf,
  TIME_PATTERN,
  type ExchangeMoment,
  type PriceQuote,
} from '@brokerage/common';
import { z } from 'zod';
import type { StockRef } from '../config';
import type { CsvTrade } from './price-csv';
import type { PriceSource, SourceFetch } from './price-source';

/** Everything of `date` before `until` (hhmmss) has been published and acknowledged. */
const replayCheckpointSchema = z.object({
  date: z.string().regex(DATE_PATTERN),
  until: z.string().regex(TIME_PATTERN),
});

/** When the replay started, in real time, and which trading day it plays; kept across restarts. */
export interface ReplayState {
  date: string;
  startedAtMs: number;
}

function secondsOf(time: string): number {
  return Number(time.slice(0, 2)) * 3600 + Number(time.slice(2, 4)) * 60 + Number(time.slice(4, 6));
}

function timeOf(seconds: number): string {
  const clamped = Math.min(seconds, 23 * 3600 + 59 * 60 + 59);
  return [Math.floor(clamped / 3600), Math.floor((clamped % 3600) / 60), clamped % 60]
    .map((part) => String(part).padStart(2, '0'))
    .join('');
}

/**
 * Replays a CSV of trades as if they happened on `state.date`, `speed` times faster than real
 * time, from the minute of the file's first trade. The replay clock derives from the persisted
 * start, so a restarted fetcher finds the replay where real time has taken it, and backfills.
 * A fetch returns the trades of the minutes that have ended since the checkpoint (the current
 * minute is still open); the checkpoint is the start of the current minute.
 */
export class CsvReplaySource implements PriceSource {
  readonly name = 'csv';
  private readonly byStock = new Map<string, CsvTrade[]>();
  private readonly openingSeconds: number;

  constructor(
    trades: CsvTrade[],
    private readonly state: ReplayState,
    private readonly speed: number,
    private readonly realNow: () => number = Date.now,
  ) {
    for (const trade of trades) {
      const list = this.byStock.get(trade.instrumentId) ?? [];
      list.push(trade);
      this.byStock.set(trade.instrumentId, list);
    }
    for (const list of this.byStock.values())
      list.sort((a, b) => a.time.localeCompare(b.time) || a.line - b.line);
    const first = trades.reduce((min, trade) => (trade.time < min ? trade.time : min), '235959');
    this.openingSeconds = secondsOf(minuteOf(first));
  }

  async now(): Promise<ExchangeMoment> {
    const elapsed = Math.max(0, (this.realNow() - this.state.startedAtMs) / 1000) * this.speed;
    return { date: this.state.date, time: timeOf(this.openingSeconds + Math.floor(elapsed)) };
  }

  stocks(): StockRef[] {
    return [...this.byStock.values()].map((list) => ({
      id: list[0]!.instrumentId,
      symbol: list[0]!.symbol.toLowerCase(),
    }));
  }

  async fetch(stock: StockRef, checkpoint: unknown): Promise<SourceFetch> {
    const now = await this.now();
    const until = minuteOf(now.time);
    const known = replayCheckpointSchema.safeParse(checkpoint);
    const from = known.success && known.data.date === now.date ? known.data.until : undefined;
    if (from !== undefined && from >= until) return { messages: [], checkpoint };
    const quotes = this.trades(stock, now.date, from, until);
    return { messages: quotes.map((quote) => ({ quote })), checkpoint: { date: now.date, until } };
  }

  /** The trades of `stock` on `date` with `from <= time < until` (`from` undefined: from the start). */
  trades(stock: StockRef, date: string, from: string | undefined, until: string): PriceQuote[] {
    if (date !== this.state.date) return [];
    return (this.byStock.get(stock.id) ?? [])
      .filter(({ time }) => (from === undefined || time >= from) && time < until)
      .map(({ time, price, line }) => ({
        stockId: stock.id,
        symbol: stock.symbol,
        date,
        time,
        seq: line,
        price,
      }));
  }
}
