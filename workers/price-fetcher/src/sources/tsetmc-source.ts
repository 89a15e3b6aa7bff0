import { toExchangeMoment, type ExchangeMoment, type Logger, type PriceQuote } from '@brokerage/common';
import { z } from 'zod';
import type { StockRef } from '../config';
import type { PriceSource } from './price-source';

// The Tehran Stock Exchange's public price API (cdn.tsetmc.com):
//   GET /api/Trade/GetTrade/{insCode}                      today's trades: {"trade": [...]}
//   GET /api/Trade/GetTradeHistory/{insCode}/{yyyymmdd}/false   a past day's: {"tradeHistory": [...]}
// Each trade: {"insCode": null, "dEven": 0, "nTran": 1, "hEven": 90016, "qTitTran": 100000,
//   "pTran": 15580.00, "qTitNgJ": 0, "iSensVarP": "\u0000", ..., "canceled": 0}
// where hEven is the time as the integer HHMMSS, nTran the trade number and pTran the price in rials.

const tradeSchema = z.object({
  nTran: z.number().int().min(0),
  hEven: z.number().int().min(0).max(235_959),
  pTran: z.number().positive(),
  canceled: z.number().int().optional(),
});
const todaySchema = z.object({ trade: z.array(tradeSchema) });
const historySchema = z.object({ tradeHistory: z.array(tradeSchema) });

/** An answer that is not in the API's format; retrying the same request would not help. */
export class MalformedAnswerError extends Error {}

class RetryableError extends Error {}

export interface TsetmcOptions {
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  timeZone: string;
  logger: Logger;
  /** First retry after this long, doubling each time. */
  backoffMs?: number;
}

export class TsetmcSource implements PriceSource {
  readonly name = 'tsetmc';

  constructor(
    private readonly options: TsetmcOptions,
    private readonly configured: StockRef[],
  ) {}

  async now(): Promise<ExchangeMoment> {
    return toExchangeMoment(new Date(), this.options.timeZone);
  }

  stocks(): StockRef[] {
    return this.configured;
  }

  async trades(
    stock: StockRef,
    date: string,
    from: string | undefined,
    until: string,
  ): Promise<PriceQuote[]> {
    const today = toExchangeMoment(new Date(), this.options.timeZone).date;
    const path =
      date === today
        ? `/api/Trade/GetTrade/${stock.id}`
        : `/api/Trade/GetTradeHistory/${stock.id}/${date}/false`;
    const body = await this.getJson(path);
    const parsed = date === today ? todaySchema.safeParse(body) : historySchema.safeParse(body);
    if (!parsed.success) {
      throw new MalformedAnswerError(
        `${path}: unexpected answer: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
    }
    const trades = 'trade' in parsed.data ? parsed.data.trade : parsed.data.tradeHistory;
    const quotes: PriceQuote[] = [];
    for (const trade of trades) {
      if (trade.canceled) continue;
      if (!Number.isSafeInteger(trade.pTran)) {
        throw new MalformedAnswerError(
          `${path}: trade ${trade.nTran} has a non-integer price ${trade.pTran}`,
        );
      }
      const time = String(trade.hEven).padStart(6, '0');
      if (Number(time.slice(2, 4)) > 59 || Number(time.slice(4, 6)) > 59) {
        throw new MalformedAnswerError(`${path}: trade ${trade.nTran} has an impossible time ${trade.hEven}`);
      }
      if ((from !== undefined && time < from) || time >= until) continue;
      quotes.push({
        stockId: stock.id,
        symbol: stock.symbol,
        date,
        time,
        seq: trade.nTran,
        price: trade.pTran,
      });
    }
    return quotes.sort((a, b) => a.time.localeCompare(b.time) || a.seq - b.seq);
  }

  /** GET with a time limit per attempt, retrying network errors, 429 and 5xx with backoff. */
  private async getJson(path: string): Promise<unknown> {
    const { baseUrl, timeoutMs, retries, logger, backoffMs = 500 } = this.options;
    const url = new URL(path, baseUrl).toString();
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await fetch(url, {
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.status === 429 || response.status >= 500)
          throw new RetryableError(`HTTP ${response.status}`);
        if (!response.ok) throw new MalformedAnswerError(`${path}: HTTP ${response.status}`);
        const text = await response.text();
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new MalformedAnswerError(`${path}: answer is not JSON`);
        }
      } catch (error) {
        if (error instanceof MalformedAnswerError) throw error;
        if (attempt >= retries)
          throw new Error(`${path}: no answer after ${attempt + 1} attempts: ${(error as Error).message}`);
        const delay = backoffMs * 2 ** attempt;
        logger.warn(
          { url, attempt: attempt + 1, delayMs: delay, err: error },
          'price source failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
