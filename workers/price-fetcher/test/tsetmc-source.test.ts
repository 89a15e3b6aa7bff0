import { createLogger } from '@brokerage/service';
import { toExchangeMoment } from '@brokerage/price-fetcher-contract';
import type { PriceMessage } from '../src/sources/price-source';
import { BROWSER_HEADERS } from '../src/sources/tsetmc-http';
import { MalformedAnswerError, TsetmcSource } from '../src/sources/tsetmc-source';
import {
  startTsetmcStandIn,
  tsetmcTrade,
  type FixtureAnswer,
  type TsetmcStandIn,
} from './tsetmc-fixture-server';

const stock = { id: '44891482026867833', symbol: 'stock1' };
const today = toExchangeMoment(new Date(), 'Asia/Tehran').date;
const yesterday = toExchangeMoment(new Date(Date.now() - 86_400_000), 'Asia/Tehran').date;

async function withSource(
  run: (source: TsetmcSource, standIn: TsetmcStandIn) => Promise<void>,
  headers: Record<string, string> = BROWSER_HEADERS,
  clock?: { now: () => Date; firstDay: string },
) {
  const standIn = await startTsetmcStandIn(clock?.firstDay ?? today);
  const source = new TsetmcSource(
    {
      baseUrl: standIn.url,
      timeoutMs: 300,
      retries: 2,
      backoffMs: 10,
      timeZone: 'Asia/Tehran',
      backfillDays: 7,
      headers,
      logger: createLogger({ service: 't', level: 'silent' }),
      ...(clock ? { now: clock.now } : {}),
    },
    [stock],
  );
  try {
    await run(source, standIn);
  } finally {
    source.close();
    await standIn.stop();
  }
}

/** Each message as `date seq price` for a trade, `date -seq minuteLast` for a cancellation. */
const brief = (messages: PriceMessage[]) =>
  messages.map((message) =>
    'quote' in message
      ? `${message.quote.date} ${message.quote.time} #${message.quote.seq} ${message.quote.price}`
      : `${message.cancellation.date} cancel #${message.cancellation.cancelled.seq} -> ${
          message.cancellation.minuteLast ? `#${message.cancellation.minuteLast.seq}` : 'none'
        }`,
  );

describe('TSETMC price source', () => {
  it("publishes the session's trades once each, under the session's date, by trade number", async () => {
    await withSource(async (source, standIn) => {
      standIn.trade(stock.id, 90016, 15580);
      standIn.trade(stock.id, 90016, 15590);
      const first = await source.fetch(stock, undefined);
      expect(brief(first.messages)).toEqual([`${today} 090016 #1 15580`, `${today} 090016 #2 15590`]);
      expect(first.checkpoint).toEqual({ session: today, nTran: 2, takenBack: [] });
      expect((await source.fetch(stock, first.checkpoint)).messages).toEqual([]);
      standIn.trade(stock.id, 90105, 15600);
      expect(brief((await source.fetch(stock, first.checkpoint)).messages)).toEqual([
        `${today} 090105 #3 15600`,
      ]);
    });
  });

  it('on a day without a session, publishes the last session under its own date, once', async () => {
    await withSource(async (source, standIn) => {
      standIn.behaviours.holiday = true;
      standIn.trade(stock.id, 122958, 15410, yesterday);
      standIn.trade(stock.id, 90016, 15580, yesterday);
      const first = await source.fetch(stock, undefined);
      expect(brief(first.messages)).toEqual([`${yesterday} 122958 #1 15410`, `${yesterday} 090016 #2 15580`]);
      const calls = standIn.calls.length;
      expect((await source.fetch(stock, first.checkpoint)).messages).toEqual([]);
      // A finished session is not asked for again: only its trade count is.
      expect(standIn.calls.slice(calls).map(({ path }) => path)).toEqual([
        `/api/ClosingPrice/GetClosingPriceInfo/${stock.id}`,
      ]);
    });
  });

  it('finishes a session left unfinished before publishing the next', async () => {
    await withSource(async (source, standIn) => {
      standIn.trade(stock.id, 90000, 100, yesterday);
      standIn.trade(stock.id, 122900, 110, yesterday);
      standIn.trade(stock.id, 90100, 120);
      const behind = await source.fetch(stock, { session: yesterday, nTran: 1, takenBack: [] });
      expect(brief(behind.messages)).toEqual([`${yesterday} 122900 #2 110`]);
      expect(behind).toMatchObject({ behind: true, checkpoint: { session: today, nTran: 0, takenBack: [] } });
      const fetched = await source.fetch(stock, behind.checkpoint);
      expect(brief(fetched.messages)).toEqual([`${today} 090100 #1 120`]);
      expect(fetched.checkpoint).toEqual({ session: today, nTran: 1, takenBack: [] });
      expect(fetched.behind).toBeUndefined();
    });
  });

  it('catches up every session missed across midnights, oldest first, passing days without one', async () => {
    // Down from Saturday 2026-11-21 10:00 (Tehran) to Wednesday 00:20: Sunday held a session,
    // Monday was a holiday, Tuesday held one; Wednesday's has not opened yet.
    let now = new Date('2026-11-24T20:50:00Z');
    await withSource(
      async (source, standIn) => {
        standIn.behaviours.holiday = true;
        const sessions: Array<[string, number, number]> = [
          ['20261121', 90000, 100],
          ['20261121', 110000, 101],
          ['20261122', 90500, 200],
          ['20261122', 91000, 201],
          ['20261124', 120000, 400],
        ];
        for (const [date, hEven, price] of sessions) standIn.trade(stock.id, hEven, price, date);
        standIn.cancel(stock.id, 1, 93000, '20261122');
        const steps: Array<{ messages: string[]; checkpoint: unknown; behind?: boolean }> = [];
        let checkpoint: unknown = { session: '20261121', nTran: 1, takenBack: [] };
        for (let fetches = 0; fetches < 6; fetches += 1) {
          const fetched = await source.fetch(stock, checkpoint);
          steps.push({
            messages: brief(fetched.messages),
            checkpoint: fetched.checkpoint,
            ...(fetched.behind ? { behind: true } : {}),
          });
          checkpoint = fetched.checkpoint;
          if (!fetched.behind) break;
        }
        expect(steps).toEqual([
          {
            messages: ['20261121 110000 #2 101'],
            checkpoint: { session: '20261122', nTran: 0, takenBack: [] },
            behind: true,
          },
          {
            messages: ['20261122 091000 #2 201', '20261122 cancel #1 -> none'],
            checkpoint: { session: '20261124', nTran: 0, takenBack: [] },
            behind: true,
          },
          {
            messages: ['20261124 120000 #1 400'],
            checkpoint: { session: '20261124', nTran: 1, takenBack: [] },
          },
        ]);
        expect(
          standIn.calls.some(({ path }) => path.includes('/GetTradeHistory/' + stock.id + '/20261123')),
        ).toBe(false);
        // Wednesday's session opens: Tuesday is finished, and Wednesday's trades are read live.
        now = new Date('2026-11-25T05:40:00Z');
        standIn.behaviours.holiday = false;
        standIn.trade(stock.id, 90100, 500);
        const closing = await source.fetch(stock, checkpoint);
        expect(closing).toEqual({
          messages: [],
          checkpoint: { session: '20261125', nTran: 0, takenBack: [] },
          behind: true,
        });
        expect(brief((await source.fetch(stock, closing.checkpoint)).messages)).toEqual([
          '20261125 090100 #1 500',
        ]);
      },
      BROWSER_HEADERS,
      { now: () => now, firstDay: '20261125' },
    );
  });

  it('passes over the sessions before the look-back, saying which days', async () => {
    await withSource(
      async (source, standIn) => {
        standIn.behaviours.holiday = true;
        standIn.trade(stock.id, 90000, 100, '20261101');
        standIn.trade(stock.id, 90000, 300, '20261119');
        standIn.trade(stock.id, 90000, 400, '20261124');
        const first = await source.fetch(stock, { session: '20261101', nTran: 0, takenBack: [] });
        expect(first).toEqual({
          messages: [],
          checkpoint: { session: '20261119', nTran: 0, takenBack: [] },
          behind: true,
          skipped: { from: '20261101', to: '20261118' },
        });
        const second = await source.fetch(stock, first.checkpoint);
        expect(brief(second.messages)).toEqual(['20261119 090000 #1 300']);
        expect(brief((await source.fetch(stock, second.checkpoint)).messages)).toEqual([
          '20261124 090000 #1 400',
        ]);
      },
      BROWSER_HEADERS,
      { now: () => new Date('2026-11-26T08:00:00Z'), firstDay: '20261126' },
    );
  });

  it('sends browser headers, which a service that refuses others accepts', async () => {
    await withSource(async (source, standIn) => {
      standIn.behaviours.browserUserAgentOnly = true;
      standIn.trade(stock.id, 90016, 15580);
      expect((await source.fetch(stock, undefined)).messages).toHaveLength(1);
      expect(standIn.calls.every(({ userAgent }) => userAgent === BROWSER_HEADERS['User-Agent'])).toBe(true);
    });
    await withSource(
      async (source, standIn) => {
        standIn.behaviours.browserUserAgentOnly = true;
        await expect(source.fetch(stock, undefined)).rejects.toThrow(/no answer after 3 attempts: HTTP 403/);
      },
      { 'User-Agent': 'node' },
    );
  });

  it('retries a throttled 403, a 500 and a timeout, each on a new connection', async () => {
    await withSource(async (source, standIn) => {
      standIn.trade(stock.id, 90016, 15580);
      standIn.behaviours.throttleNext = 1;
      standIn.script[`/api/Trade/GetTrade/${stock.id}`] = [
        { kind: 'status', status: 500 },
        { kind: 'json', body: { trade: [tsetmcTrade(1, 90016, 15580)] }, delayMs: 1_000 },
        { kind: 'json', body: { trade: [tsetmcTrade(1, 90016, 15580)] } },
      ];
      expect((await source.fetch(stock, undefined)).messages).toHaveLength(1);
      expect(standIn.calls.map(({ status }) => status)).toEqual([403, 200, 500, 200, 200]);
      expect(standIn.connections()).toBeGreaterThanOrEqual(4);
    });
  });

  it('asks again, on a new connection, when a server answers 500 or lists nothing for a traded stock', async () => {
    await withSource(async (source, standIn) => {
      standIn.useBackends(['error', 'empty', 'good']);
      for (let n = 0; n < 5; n += 1) standIn.trade(stock.id, 90000 + n, 100 + n);
      let checkpoint: unknown;
      const published: string[] = [];
      for (let cycle = 0; cycle < 6; cycle += 1) {
        const fetched = await source.fetch(stock, checkpoint);
        published.push(...brief(fetched.messages));
        checkpoint = fetched.checkpoint;
        if (cycle === 2) standIn.trade(stock.id, 90100, 200);
      }
      expect(published).toEqual([
        ...[0, 1, 2, 3, 4].map((n) => `${today} 09000${n} #${n + 1} ${100 + n}`),
        `${today} 090100 #6 200`,
      ]);
      expect(standIn.calls.some(({ backend }) => backend === 'empty')).toBe(true);
      expect(standIn.calls.some(({ backend }) => backend === 'error')).toBe(true);
    });
  });

  it('publishes trades listed late on a later fetch, and waits for a trade number missing in between', async () => {
    await withSource(async (source, standIn) => {
      for (let n = 1; n <= 5; n += 1) standIn.trade(stock.id, 90000 + n, 100 + n);
      standIn.behaviours.lagRows = 2;
      standIn.behaviours.hiddenTrades = new Set([2]);
      const first = await source.fetch(stock, undefined);
      expect(brief(first.messages)).toEqual([`${today} 090001 #1 101`]);
      standIn.behaviours.hiddenTrades = new Set();
      const second = await source.fetch(stock, first.checkpoint);
      expect(brief(second.messages)).toEqual([`${today} 090002 #2 102`, `${today} 090003 #3 103`]);
      standIn.behaviours.lagRows = 0;
      standIn.behaviours.duplicateRows = true;
      const third = await source.fetch(stock, second.checkpoint);
      expect(brief(third.messages)).toEqual([`${today} 090004 #4 104`, `${today} 090005 #5 105`]);
      expect(third.checkpoint).toEqual({ session: today, nTran: 5, takenBack: [] });
    });
  });

  it('takes back a cancelled trade once, with the latest remaining trade of its minute', async () => {
    await withSource(async (source, standIn) => {
      standIn.trade(stock.id, 90010, 100);
      standIn.trade(stock.id, 90020, 110);
      standIn.trade(stock.id, 90110, 120);
      const first = await source.fetch(stock, undefined);
      standIn.cancel(stock.id, 2, 91500);
      standIn.cancel(stock.id, 3, 91500);
      standIn.behaviours.duplicateRows = true;
      const second = await source.fetch(stock, first.checkpoint);
      expect(brief(second.messages)).toEqual([`${today} cancel #2 -> #1`, `${today} cancel #3 -> none`]);
      expect(second.messages[0]).toEqual({
        cancellation: {
          type: 'trade-cancelled',
          stockId: stock.id,
          symbol: 'stock1',
          date: today,
          cancelled: { time: '090020', seq: 2 },
          minuteLast: { time: '090010', seq: 1, price: 100 },
        },
      });
      expect((await source.fetch(stock, second.checkpoint)).messages).toEqual([]);
    });
  });

  it.each<[string, FixtureAnswer]>([
    ['an HTML error page', { kind: 'raw', body: '<html>maintenance</html>' }],
    ['a missing trade list', { kind: 'json', body: { closingPriceInfo: {} } }],
    ['a non-integer price', { kind: 'json', body: { trade: [tsetmcTrade(1, 90016, 155.5)] } }],
    ['an impossible time', { kind: 'json', body: { trade: [tsetmcTrade(1, 96116, 100)] } }],
    ['a negative price', { kind: 'json', body: { trade: [tsetmcTrade(1, 90016, -5)] } }],
  ])('rejects %s as malformed, without retrying', async (_case, answer) => {
    await withSource(async (source, standIn) => {
      standIn.trade(stock.id, 90016, 15580);
      standIn.script[`/api/Trade/GetTrade/${stock.id}`] = [answer];
      await expect(source.fetch(stock, undefined)).rejects.toBeInstanceOf(MalformedAnswerError);
      expect(standIn.calls).toHaveLength(2);
    });
  });
});
