import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { eventually } from '../../../test/support/price-series';

/** A trade in the exchange API's own shape (see src/sources/tsetmc-answers.ts). */
export function tsetmcTrade(nTran: number, hEven: number, pTran: number, canceled = 0) {
  return {
    insCode: null,
    dEven: 0,
    nTran,
    hEven,
    qTitTran: 1000,
    pTran,
    qTitNgJ: 0,
    iSensVarP: '\u0000',
    pPhSeaCotJ: 0.0,
    pPbSeaCotJ: 0.0,
    iAnuTran: 0,
    xqVarPJDrPRf: 0.0,
    canceled,
  };
}

export type FixtureAnswer =
  | { kind: 'json'; body: unknown; delayMs?: number }
  | { kind: 'status'; status: number }
  | { kind: 'raw'; body: string };

/** A server behind the CDN: a good one, one that answers 500, or one that lists no trades. */
export type Backend = 'good' | 'error' | 'empty';

/** How the stand-in misbehaves; each as the real service does (docs/price-pipeline.md). */
export interface Behaviours {
  /** Today has no session: GetClosingPriceInfo names the last one, and GetTrade lists its trades. */
  holiday: boolean;
  /** 403 for a request whose User-Agent is not a browser's. */
  browserUserAgentOnly: boolean;
  /** The next this many requests get 403, as from the CDN's throttle. */
  throttleNext: number;
  /** GetTrade leaves out the newest this many trades (GetClosingPriceInfo counts them). */
  lagRows: number;
  /** GetTrade leaves out these trade numbers (GetClosingPriceInfo counts them). */
  hiddenTrades: Set<number>;
  /** Each new connection reaches the next of these servers, and stays on it while kept alive. */
  backends: Backend[];
  /** Every row listed twice. */
  duplicateRows: boolean;
}

interface StandInTrade {
  nTran: number;
  hEven: number;
  pTran: number;
  /** When it was cancelled, if it was. */
  cancelledAt?: number;
}

/**
 * A stand-in for cdn.tsetmc.com on loopback, holding sessions of trades per instrument and
 * answering GetClosingPriceInfo, GetTrade and GetTradeHistory from them, with each misbehaviour of
 * the real service switchable. `script` answers a path from a queue of fixed answers instead (the
 * last one repeats), so that a test can script "fail twice, then answer" or a malformed answer.
 */
export async function startTsetmcStandIn(firstDay: string) {
  let today = firstDay;
  const behaviours: Behaviours = {
    holiday: false,
    browserUserAgentOnly: false,
    throttleNext: 0,
    lagRows: 0,
    hiddenTrades: new Set(),
    backends: ['good'],
    duplicateRows: false,
  };
  const sessions = new Map<string, Map<string, StandInTrade[]>>();
  const script: Record<string, FixtureAnswer[]> = {};
  const calls: Array<{ path: string; status: number; backend: Backend; userAgent: string | undefined }> = [];
  const backendOf = new WeakMap<Socket, Backend>();
  let connections = 0;

  const tradesOf = (insCode: string, date: string) => {
    let byDate = sessions.get(insCode);
    if (!byDate) sessions.set(insCode, (byDate = new Map<string, StandInTrade[]>()));
    let trades = byDate.get(date);
    if (!trades) byDate.set(date, (trades = [] as StandInTrade[]));
    return trades;
  };
  /** The session the feed shows: today's, or on a day without one, the last. */
  const currentSession = (insCode: string) => {
    if (!behaviours.holiday) return today;
    const dates = [...(sessions.get(insCode)?.keys() ?? [])].filter(
      (date) => date < today && tradesOf(insCode, date).length > 0,
    );
    return dates.sort().at(-1) ?? today;
  };
  /** A session's rows as the exchange lists them: a cancelled trade at its time and at its cancellation. */
  const rowsOf = (trades: StandInTrade[]) =>
    trades.flatMap((trade) => {
      const row = tsetmcTrade(trade.nTran, trade.hEven, trade.pTran, trade.cancelledAt === undefined ? 0 : 1);
      const rows = trade.cancelledAt === undefined ? [row] : [row, { ...row, hEven: trade.cancelledAt }];
      return behaviours.duplicateRows ? rows.flatMap((one) => [one, { ...one }]) : rows;
    });

  function answer(path: string, backend: Backend): { status: number; body?: unknown } {
    let match = /^\/api\/ClosingPrice\/GetClosingPriceInfo\/(\d+)$/.exec(path);
    if (match) {
      const session = currentSession(match[1]!);
      const trades = tradesOf(match[1]!, session);
      return {
        status: 200,
        body: {
          closingPriceInfo: {
            instrumentState: { cEtaval: 'A ', underSupervision: 0 },
            lastHEven: trades.at(-1)?.hEven ?? 0,
            finalLastDate: Number(session),
            dEven: Number(session),
            hEven: trades.at(-1)?.hEven ?? 0,
            pDrCotVal: trades.at(-1)?.pTran ?? 0,
            zTotTran: trades.length,
            qTotTran5J: trades.length * 1000,
          },
        },
      };
    }
    match = /^\/api\/ClosingPrice\/GetClosingPriceDailyList\/(\d+)\/(\d+)$/.exec(path);
    if (match) {
      // Every day that held a session (a past day with trades, today's unless it is a holiday),
      // newest first, the latest n (0: all).
      const dates = [...(sessions.get(match[1]!)?.entries() ?? [])]
        .filter(
          ([date, trades]) => trades.length > 0 && (date < today || (date === today && !behaviours.holiday)),
        )
        .map(([date]) => date)
        .sort()
        .reverse();
      const count = Number(match[2]);
      return {
        status: 200,
        body: {
          closingPriceDaily: (count > 0 ? dates.slice(0, count) : dates).map((date) => {
            const trades = tradesOf(match![1]!, date);
            return {
              insCode: match![1]!,
              dEven: Number(date),
              hEven: trades.at(-1)!.hEven,
              pClosing: trades.at(-1)!.pTran,
              pDrCotVal: trades.at(-1)!.pTran,
              zTotTran: trades.length,
              qTotTran5J: trades.length * 1000,
            };
          }),
        },
      };
    }
    match = /^\/api\/Trade\/GetTrade\/(\d+)$/.exec(path);
    if (match) {
      if (backend === 'empty') return { status: 200, body: { trade: [] } };
      const trades = tradesOf(match[1]!, currentSession(match[1]!));
      const listed = trades
        .slice(0, Math.max(0, trades.length - behaviours.lagRows))
        .filter(({ nTran }) => !behaviours.hiddenTrades.has(nTran));
      return { status: 200, body: { trade: rowsOf(listed) } };
    }
    match = /^\/api\/Trade\/GetTradeHistory\/(\d+)\/(\d{8})\/false$/.exec(path);
    if (match) {
      if (backend === 'empty') return { status: 200, body: { tradeHistory: [] } };
      // Newest first, as the real history lists them.
      return { status: 200, body: { tradeHistory: rowsOf(tradesOf(match[1]!, match[2]!)).reverse() } };
    }
    return { status: 404 };
  }

  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const backend = backendOf.get(req.socket) ?? 'good';
    const userAgent = req.headers['user-agent'];
    const reply = (status: number, body?: string, delayMs = 0) => {
      calls.push({ path, status, backend, userAgent });
      const send = () => {
        if (res.destroyed) return;
        if (body === undefined) res.writeHead(status).end('error');
        else res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      };
      if (delayMs) setTimeout(send, delayMs).unref();
      else send();
    };
    if (behaviours.browserUserAgentOnly && !userAgent?.startsWith('Mozilla/')) return reply(403);
    if (behaviours.throttleNext > 0) {
      behaviours.throttleNext -= 1;
      return reply(403);
    }
    const queue = script[path];
    const scripted = queue && (queue.length > 1 ? queue.shift()! : queue[0]);
    if (scripted) {
      if (scripted.kind === 'status') return reply(scripted.status);
      if (scripted.kind === 'raw') return reply(200, scripted.body);
      return reply(200, JSON.stringify(scripted.body), scripted.delayMs);
    }
    if (backend === 'error') return reply(500);
    const { status, body } = answer(path, backend);
    return reply(status, body === undefined ? undefined : JSON.stringify(body));
  });
  server.on('connection', (socket: Socket) => {
    backendOf.set(socket, behaviours.backends[connections % behaviours.backends.length]!);
    connections += 1;
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    behaviours,
    script,
    calls,
    /** From now on new connections reach `backends` in turn, the first the next; kept-alive ones are closed. */
    useBackends(backends: Backend[]): void {
      behaviours.backends = backends;
      connections = 0;
      server.closeIdleConnections();
    },
    /** The exchange's calendar turns to `date` (`yyyymmdd`): the feed's session is now that day's. */
    setToday(date: string): void {
      today = date;
    },
    /** Waits for `count` more requests (a few fetch cycles), so that anything published twice would show. */
    async moreCalls(count = 8): Promise<void> {
      const until = calls.length + count;
      await eventually(
        async () => calls.length,
        (made) => made >= until,
        10_000,
      );
    },
    /** Connections accepted so far (since the last useBackends). */
    connections: () => connections,
    /** Records a trade of `insCode` on `date` (today's by default); returns its trade number. */
    trade(insCode: string, hEven: number, pTran: number, date = today): number {
      const trades = tradesOf(insCode, date);
      const nTran = trades.length + 1;
      trades.push({ nTran, hEven, pTran });
      return nTran;
    },
    /** The exchange cancels a trade at `atHEven`. */
    cancel(insCode: string, nTran: number, atHEven: number, date = today): void {
      const trade = tradesOf(insCode, date).find((candidate) => candidate.nTran === nTran)!;
      trade.cancelledAt = atHEven;
    },
    /** The minute series the ingestor must end with: each minute's last trade not cancelled. */
    expectedSeries(insCode: string, date = today) {
      const last = new Map<string, number>();
      for (const trade of tradesOf(insCode, date)) {
        if (trade.cancelledAt !== undefined) continue;
        last.set(`${String(trade.hEven).padStart(6, '0').slice(0, 4)}00`, trade.pTran);
      }
      const time = [...last.keys()].sort();
      return { time, price: time.map((minute) => last.get(minute)!) };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type TsetmcStandIn = Awaited<ReturnType<typeof startTsetmcStandIn>>;
