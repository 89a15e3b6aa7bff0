import {
  addDays,
  DATE_PATTERN,
  minuteOf,
  TIME_PATTERN,
  type ExchangeMoment,
  type PriceQuote,
} from '@brokerage/price-fetcher-contract';
import { z } from 'zod';
import { WEEKDAYS, type StockRef, type Weekday } from '../config';
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

const SECONDS_PER_DAY = 24 * 3600;

function secondsOf(time: string): number {
  return Number(time.slice(0, 2)) * 3600 + Number(time.slice(2, 4)) * 60 + Number(time.slice(4, 6));
}

function timeOf(seconds: number): string {
  return [Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60), seconds % 60]
    .map((part) => String(part).padStart(2, '0'))
    .join('');
}

export interface ReplayOptions {
  /** Replayed seconds per real second. */
  speed: number;
  /** How many days, from `state.date`, trade the file again (REPLAY_DAYS). */
  days: number;
  /** Weekdays among those without a session (REPLAY_CLOSED_WEEKDAYS). */
  closedWeekdays: readonly Weekday[];
  /** How many days before the replay's today a checkpoint is caught up from (BACKFILL_MAX_DAYS). */
  backfillDays: number;
  /** The real clock, in epoch milliseconds. */
  realNow?: () => number;
}

/**
 * Replays a CSV of a day's trades on `state.date` and the `days - 1` days after it (each weekday
 * not closed holds a session with the file's trades), `speed` times faster than real time, from the
 * minute of the file's first trade on the first day; the clock runs through midnights and on past
 * the last day. The clock derives from the persisted start, so a restarted fetcher finds the replay
 * where real time has taken it, and backfills. A fetch returns the trades of the minutes that have
 * ended since the checkpoint (the current minute is still open); the checkpoint is the start of the
 * current minute. A checkpoint of an earlier day is caught up a day at a time: the rest of its day,
 * then (`behind`) the next day from its start, never further back than `backfillDays`.
 */
export class CsvReplaySource implements PriceSource {
  readonly name = 'csv';
  private readonly byStock = new Map<string, CsvTrade[]>();
  private readonly openingSeconds: number;
  private readonly realNow: () => number;

  constructor(
    trades: CsvTrade[],
    private readonly state: ReplayState,
    private readonly options: ReplayOptions,
  ) {
    this.realNow = options.realNow ?? Date.now;
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
    const elapsed = Math.max(0, (this.realNow() - this.state.startedAtMs) / 1000) * this.options.speed;
    const seconds = this.openingSeconds + Math.floor(elapsed);
    return {
      date: addDays(this.state.date, Math.floor(seconds / SECONDS_PER_DAY)),
      time: timeOf(seconds % SECONDS_PER_DAY),
    };
  }

  stocks(): StockRef[] {
    return [...this.byStock.values()].map((list) => ({
      id: list[0]!.instrumentId,
      symbol: list[0]!.symbol.toLowerCase(),
    }));
  }

  /** Whether the replay holds a session on `date`. */
  isSession(date: string): boolean {
    if (date < this.state.date || date >= addDays(this.state.date, this.options.days)) return false;
    const weekday = new Date(
      Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8)),
    ).getUTCDay();
    return !this.options.closedWeekdays.includes(WEEKDAYS[weekday]!);
  }

  async fetch(stock: StockRef, checkpoint: unknown): Promise<SourceFetch> {
    const now = await this.now();
    const until = minuteOf(now.time);
    const known = replayCheckpointSchema.safeParse(checkpoint);
    // None yet, or one ahead of the clock (another replay's): from the start of today.
    let from =
      known.success && known.data.date <= now.date ? known.data : { date: now.date, until: '000000' };
    const earliest = addDays(now.date, -this.options.backfillDays);
    let skipped: SourceFetch['skipped'];
    if (from.date < earliest) {
      skipped = { from: from.date, to: addDays(earliest, -1) };
      from = { date: earliest, until: '000000' };
    }
    if (from.date < now.date) {
      const quotes = this.trades(stock, from.date, from.until);
      return {
        messages: quotes.map((quote) => ({ quote })),
        checkpoint: { date: addDays(from.date, 1), until: '000000' },
        behind: true,
        ...(skipped ? { skipped } : {}),
      };
    }
    if (from.until >= until) return { messages: [], checkpoint: from };
    const quotes = this.trades(stock, now.date, from.until, until);
    return { messages: quotes.map((quote) => ({ quote })), checkpoint: { date: now.date, until } };
  }

  /**
   * The trades of `stock` on `date` with `from <= time < until` (`from` undefined: from the start;
   * `until` undefined: to the end of the day); none on a day without a session.
   */
  trades(stock: StockRef, date: string, from?: string, until?: string): PriceQuote[] {
    if (!this.isSession(date)) return [];
    return (this.byStock.get(stock.id) ?? [])
      .filter(({ time }) => (from === undefined || time >= from) && (until === undefined || time < until))
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
