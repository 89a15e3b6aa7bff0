import { z } from 'zod';

// The Tehran Stock Exchange's public price API (cdn.tsetmc.com), the answers the fetcher reads:
//   GET /api/ClosingPrice/GetClosingPriceInfo/{insCode}    the instrument's session:
//       {"closingPriceInfo": {"finalLastDate": 20231023, "dEven": 20231023, "hEven": 122958,
//        "zTotTran": 7912.0, "pDrCotVal": 15320.00, ...}}
//       finalLastDate: the date of the instrument's latest session (on a day without one, the last);
//       zTotTran: that session's number of trades so far
//   GET /api/Trade/GetTrade/{insCode}                      the latest session's trades: {"trade": [...]}
//   GET /api/Trade/GetTradeHistory/{insCode}/{yyyymmdd}/false   a past day's: {"tradeHistory": [...]}
//   GET /api/ClosingPrice/GetClosingPriceDailyList/{insCode}/{n}   the latest n sessions, newest first:
//       {"closingPriceDaily": [{"dEven": 20231023, "zTotTran": 7912.0, "pClosing": 15320.00, ...}, ...]}
//       a day without a session (weekend, holiday) is not listed
// Each trade: {"insCode": null, "dEven": 0, "nTran": 1, "hEven": 90016, "qTitTran": 100000,
//   "pTran": 15580.00, "qTitNgJ": 0, "iSensVarP": "\u0000", ..., "canceled": 0}
// where hEven is the time as the integer HHMMSS, nTran the trade number (1, 2, ... within a
// session) and pTran the price in rials. GetTrade's rows carry no date (dEven 0): on a day without
// a session they are the last session's.

/** An answer that is not in the API's format; asking again would not help. */
export class MalformedAnswerError extends Error {}

/** An answer that another server, or the same one a moment later, may give right. */
export class TransientAnswerError extends Error {}

const tradeRowSchema = z.object({
  nTran: z.number().int().min(1),
  hEven: z.number().int().min(0).max(235_959),
  pTran: z.number().positive(),
  canceled: z.number().int().optional(),
});
export type TradeRow = z.infer<typeof tradeRowSchema>;

const closingPriceInfoSchema = z.object({
  closingPriceInfo: z.object({
    finalLastDate: z.number().int().min(19_000_101).max(99_991_231),
    zTotTran: z.number().int().min(0),
  }),
});

/** The session an instrument's feed belongs to, and its trade count so far. */
export interface SessionInfo {
  /** `yyyymmdd` */
  session: string;
  tradeCount: number;
}

function parsed<T>(schema: z.ZodType<T>, body: unknown, path: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MalformedAnswerError(
      `${path}: unexpected answer: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
    );
  }
  return result.data;
}

export function sessionInfoFrom(body: unknown, path: string): SessionInfo {
  const { closingPriceInfo } = parsed(closingPriceInfoSchema, body, path);
  return { session: String(closingPriceInfo.finalLastDate), tradeCount: closingPriceInfo.zTotTran };
}

const closingPriceDailySchema = z.object({
  closingPriceDaily: z.array(
    z.object({
      dEven: z.number().int().min(19_000_101).max(99_991_231),
      zTotTran: z.number().int().min(0),
    }),
  ),
});

/** The sessions a GetClosingPriceDailyList answer lists, oldest first, with their trade counts. */
export function sessionListFrom(body: unknown, path: string): SessionInfo[] {
  return parsed(closingPriceDailySchema, body, path)
    .closingPriceDaily.map(({ dEven, zTotTran }) => ({ session: String(dEven), tradeCount: zTotTran }))
    .sort((a, b) => a.session.localeCompare(b.session));
}

export function tradeRowsFrom(body: unknown, list: 'trade' | 'tradeHistory', path: string): TradeRow[] {
  const rows = parsed(z.object({ [list]: z.array(tradeRowSchema) }), body, path)[list] as TradeRow[];
  for (const row of rows) {
    if (!Number.isSafeInteger(row.pTran)) {
      throw new MalformedAnswerError(`${path}: trade ${row.nTran} has a non-integer price ${row.pTran}`);
    }
    if (Math.floor(row.hEven / 100) % 100 > 59 || row.hEven % 100 > 59) {
      throw new MalformedAnswerError(`${path}: trade ${row.nTran} has an impossible time ${row.hEven}`);
    }
  }
  return rows;
}
