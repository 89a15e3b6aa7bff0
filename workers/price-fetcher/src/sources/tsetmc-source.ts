import { type Logger } from '@brokerage/service';
import { addDays, toExchangeMoment } from '@brokerage/price-fetcher-contract';
import type { StockRef } from '../config';
import type { PriceSource, SourceFetch } from './price-source';
import { advance, sessionCheckpointSchema, type SessionCheckpoint } from './session-ledger';
import {
  sessionInfoFrom,
  sessionListFrom,
  tradeRowsFrom,
  TransientAnswerError,
  type SessionInfo,
  type TradeRow,
} from './tsetmc-answers';
import { TsetmcHttp } from './tsetmc-http';

export { MalformedAnswerError } from './tsetmc-answers';

export interface TsetmcOptions {
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  timeZone: string;
  /** Every request's headers (BROWSER_HEADERS, with the configured ones over them). */
  headers: Record<string, string>;
  logger: Logger;
  /** First retry after this long, doubling each time. */
  backoffMs?: number;
  /** How many days before today a checkpoint left behind is caught up from (BACKFILL_MAX_DAYS). */
  backfillDays: number;
  /** The clock that says which day is today on the exchange. */
  now?: () => Date;
}

/**
 * Prices from the exchange, fetched as cdn.tsetmc.com behaves (docs/price-pipeline.md):
 * - the session comes from GetClosingPriceInfo, never from the clock: its trades are published
 *   under its date, and once a past session (a day without one names the last) is complete,
 *   nothing more is asked of it;
 * - today's session is read from GetTrade, a past one from GetTradeHistory, whose rows are dated
 *   by the request (GetTrade's rows carry no date);
 * - the checkpoint is a trade number (session-ledger.ts), so a trade listed late is published on a
 *   later fetch, and one listed twice once;
 * - an empty list while the session counts trades, or a list behind what was already published,
 *   is the answer of a lagging server: asked again, on a new connection;
 * - a fetcher that was down (across midnight, or for days) catches up session by session from
 *   GetClosingPriceDailyList and GetTradeHistory, oldest first, back to BACKFILL_MAX_DAYS, before
 *   the feed's session.
 */
export class TsetmcSource implements PriceSource {
  readonly name = 'tsetmc';
  private readonly http: TsetmcHttp;

  constructor(
    private readonly options: TsetmcOptions,
    private readonly configured: StockRef[],
  ) {
    this.http = new TsetmcHttp(options);
  }

  stocks(): StockRef[] {
    return this.configured;
  }

  close(): void {
    this.http.close();
  }

  async fetch(stock: StockRef, stored: unknown): Promise<SourceFetch> {
    const known = sessionCheckpointSchema.safeParse(stored);
    const info = await this.sessionInfo(stock, known.success ? known.data : undefined);
    const today = toExchangeMoment(this.options.now?.() ?? new Date(), this.options.timeZone).date;
    if (known.success && known.data.session < info.session) {
      return this.catchUp(stock, known.data, info, today);
    }
    const checkpoint = known.success ? known.data : { session: info.session, nTran: 0, takenBack: [] };
    const finished = info.session < today && checkpoint.nTran >= info.tradeCount;
    if (finished || info.tradeCount === 0) return { messages: [], checkpoint };
    const rows = await this.trades(stock, info.session, info, checkpoint, info.session === today);
    return advance(stock, rows, checkpoint, info.tradeCount);
  }

  /**
   * One step of catching up a checkpoint left in a session before the feed's (the fetcher was
   * down): what is missing of the checkpoint's session is published from its history, under its
   * own date, and the checkpoint moves to the start of the next session the exchange lists (a day
   * without one is not listed, so it is neither a hole nor a wait), or to the feed's session. A
   * checkpoint older than the look-back moves to the first session within it, unfetched.
   */
  private async catchUp(
    stock: StockRef,
    checkpoint: SessionCheckpoint,
    info: SessionInfo,
    today: string,
  ): Promise<SourceFetch> {
    const earliest = addDays(today, -this.options.backfillDays);
    const sessions = (await this.pastSessions(stock, checkpoint, earliest)).filter(
      ({ session, tradeCount }) => session < info.session && tradeCount > 0,
    );
    const startOf = (session: string): SessionCheckpoint => ({ session, nTran: 0, takenBack: [] });
    const next = (after: string) => sessions.find(({ session }) => session > after)?.session ?? info.session;
    if (checkpoint.session < earliest) {
      return {
        messages: [],
        checkpoint: startOf(next(addDays(earliest, -1))),
        behind: true,
        skipped: { from: checkpoint.session, to: addDays(earliest, -1) },
      };
    }
    const listed = sessions.find(({ session }) => session === checkpoint.session);
    // Not listed with trades: a session nothing of which was published held none.
    if (!listed) return { messages: [], checkpoint: startOf(next(checkpoint.session)), behind: true };
    const rows = await this.trades(stock, checkpoint.session, listed, checkpoint);
    const step = advance(stock, rows, checkpoint, listed.tradeCount);
    // A history listing fewer trades than the session counts is finished on a later fetch.
    if (distinctTrades(rows) < listed.tradeCount) return step;
    return { messages: step.messages, checkpoint: startOf(next(checkpoint.session)), behind: true };
  }

  /**
   * The exchange's list of the instrument's latest sessions, as many as there are days in the
   * look-back: at most one session a day, so every session since `earliest` is in it. An empty
   * list, or one that lacks a session within the look-back that the checkpoint is partway
   * through, is a lagging server's answer, asked again.
   */
  private pastSessions(
    stock: StockRef,
    checkpoint: SessionCheckpoint,
    earliest: string,
  ): Promise<SessionInfo[]> {
    const path = `/api/ClosingPrice/GetClosingPriceDailyList/${stock.id}/${this.options.backfillDays + 1}`;
    return this.http.getJson(path, (body) => {
      const sessions = sessionListFrom(body, path);
      if (sessions.length === 0) throw new TransientAnswerError(`${path}: lists no session`);
      const partway = checkpoint.nTran > 0 && checkpoint.session >= earliest;
      if (partway && !sessions.some(({ session }) => session === checkpoint.session)) {
        throw new TransientAnswerError(`${path}: does not list session ${checkpoint.session}`);
      }
      return sessions;
    });
  }

  private sessionInfo(stock: StockRef, checkpoint: SessionCheckpoint | undefined): Promise<SessionInfo> {
    const path = `/api/ClosingPrice/GetClosingPriceInfo/${stock.id}`;
    return this.http.getJson(path, (body) => {
      const info = sessionInfoFrom(body, path);
      if (checkpoint && info.session < checkpoint.session) {
        throw new TransientAnswerError(
          `${path}: names session ${info.session}, before ${checkpoint.session}`,
        );
      }
      return info;
    });
  }

  /**
   * The rows of `session`: today's from GetTrade, a past one's from GetTradeHistory. With `info`
   * (the session's trade count), an empty list where the count is not zero, or a list that ends
   * before the checkpoint, is a lagging server's answer, and asked again.
   */
  private trades(
    stock: StockRef,
    session: string,
    info: SessionInfo | undefined,
    checkpoint: SessionCheckpoint,
    today = false,
  ): Promise<TradeRow[]> {
    const path = today
      ? `/api/Trade/GetTrade/${stock.id}`
      : `/api/Trade/GetTradeHistory/${stock.id}/${session}/false`;
    return this.http.getJson(path, (body) => {
      const rows = tradeRowsFrom(body, today ? 'trade' : 'tradeHistory', path);
      const last = rows.reduce((max, row) => Math.max(max, row.nTran), 0);
      if (info && rows.length === 0 && info.tradeCount > 0) {
        throw new TransientAnswerError(`${path}: no trades listed, ${info.tradeCount} counted`);
      }
      if (last < checkpoint.nTran && (info || rows.length === 0)) {
        throw new TransientAnswerError(
          `${path}: lists trades up to ${last}, ${checkpoint.nTran} already seen`,
        );
      }
      return rows;
    });
  }
}

function distinctTrades(rows: TradeRow[]): number {
  return new Set(rows.map(({ nTran }) => nTran)).size;
}
