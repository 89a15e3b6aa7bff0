import { toExchangeMoment, type Logger } from '@brokerage/common';
import type { StockRef } from '../config';
import type { PriceMessage, PriceSource, SourceFetch } from './price-source';
import { advance, sessionCheckpointSchema, type SessionCheckpoint } from './session-ledger';
import {
  sessionInfoFrom,
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
 *   is the answer of a lagging server: asked again, on a new connection.
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
    let checkpoint: SessionCheckpoint | undefined = known.success ? known.data : undefined;
    const info = await this.sessionInfo(stock, checkpoint);
    const messages: PriceMessage[] = [];
    if (checkpoint && checkpoint.session < info.session) {
      // A new session began while the last one was unfinished here (the fetcher was down): its
      // final list is in the history, and what is missing of it is published under its own date.
      const rows = await this.trades(stock, checkpoint.session, undefined, checkpoint);
      messages.push(...advance(stock, rows, checkpoint, distinctTrades(rows)).messages);
      checkpoint = undefined;
    }
    checkpoint ??= { session: info.session, nTran: 0, takenBack: [] };
    const today = toExchangeMoment(this.options.now?.() ?? new Date(), this.options.timeZone).date;
    const finished = info.session < today && checkpoint.nTran >= info.tradeCount;
    if (finished || info.tradeCount === 0) return { messages, checkpoint };
    const rows = await this.trades(stock, info.session, info, checkpoint, info.session === today);
    const step = advance(stock, rows, checkpoint, info.tradeCount);
    return { messages: [...messages, ...step.messages], checkpoint: step.checkpoint };
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
