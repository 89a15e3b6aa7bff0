import { ensureTopics, topicConfig } from '@brokerage/kafka';
import { encodePriceQuote } from '@brokerage/price-fetcher-contract';
import { eventually, expectedSeriesFromCsv, quotesFromCsv } from '../../../test/support/price-series';
import { produce } from '../../../test/support/produce';
import { publishQuotes } from '../../../test/support/quotes';
import type { PriceIngestorApp } from '../src/app';
import { openIngestorSuite, type IngestorSuite } from './ingestor-suite';

/** Deterministic shuffle, so a failure can be reproduced. */
function shuffled<T>(items: T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe('price ingestor', () => {
  let suite: IngestorSuite;
  let ingestor: PriceIngestorApp;

  beforeAll(async () => {
    suite = await openIngestorSuite();
    ingestor = await suite.startIngestor();
  });

  afterAll(async () => {
    await ingestor?.stop();
    await suite?.close();
  });

  const publish = (values: Array<Buffer | string>, key = '1') =>
    produce(
      suite.topic,
      values.map((value) => ({ key, value })),
    );

  const readSeries = (key: string) => suite.readSeries(key);

  it('builds the exact minute series from shuffled, duplicated quotes, skipping invalid messages', async () => {
    const quotes = quotesFromCsv('20261121');
    // Every quote twice, in a random order, and some garbage: the result must not depend on any of it.
    const messages = shuffled([...quotes, ...quotes], 7).map((quote) => encodePriceQuote(quote));
    await publish(['not json', JSON.stringify({ stockId: 'x' }), ...messages]);

    const expected = expectedSeriesFromCsv();
    for (const [symbol, series] of expected) {
      const actual = await eventually(
        () => readSeries(symbol),
        (value) => JSON.stringify(value) === JSON.stringify(series),
        20_000,
      );
      expect(actual).toEqual(series);
      expect(await readSeries(`${symbol}:20261121`)).toEqual(series);
      expect(await suite.redis.get(`${symbol}:latest-date`)).toBe('20261121');
    }
    // The exact form an existing client reads: keys in order, integers, times as strings.
    expect(await suite.redis.get('stock1')).toMatch(
      /^\{"time":\["090000","090100",.*\],"price":\[\d+(,\d+)*\]\}$/,
    );
  });

  it('moves the bare key to a newer day and keeps older days under their date', async () => {
    const day2 = quotesFromCsv('20261122')
      .filter(({ symbol }) => symbol === 'stock2')
      .slice(0, 3);
    await publish(day2.map((quote) => encodePriceQuote(quote)));
    await eventually(
      () => suite.redis.get('stock2:latest-date'),
      (date) => date === '20261122',
      20_000,
    );
    expect(await readSeries('stock2')).toEqual(await readSeries('stock2:20261122'));
    expect(await readSeries('stock2:20261121')).toEqual(expectedSeriesFromCsv().get('stock2'));

    // A late quote of the older day lands in that day only.
    const late = { ...day2[0]!, date: '20261121', time: '095959', seq: 999_999, price: 1 };
    await publish([encodePriceQuote(late)]);
    const lastPrice = async () => ((await readSeries('stock2:20261121')) as { price: number[] }).price.at(-1);
    expect(await eventually(lastPrice, (price) => price === 1, 20_000)).toBe(1);
    expect(await suite.redis.get('stock2:latest-date')).toBe('20261122');
    expect(await readSeries('stock2')).toEqual(await readSeries('stock2:20261122'));
  });
});

describe('price ingestor when Redis refuses a write', () => {
  let suite: IngestorSuite;
  const startIngestor = () => suite.startIngestor({ RETRY_DELAY_MS: '200' });

  beforeAll(async () => {
    suite = await openIngestorSuite();
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('commits nothing past the batch Redis refused, so a restart writes it', async () => {
    // stock1's trade orders key holds a hash: every script call for stock1 fails (WRONGTYPE),
    // while the other stocks' calls in the same pipelined writes succeed.
    await suite.redis.hset('stock1:20261121:orders', 'not', 'a string');
    await publishQuotes(suite.topic, quotesFromCsv('20261121'));

    const expected = expectedSeriesFromCsv();
    const first = await startIngestor();
    for (const symbol of ['stock2', 'stock3']) {
      const series = await eventually(
        () => suite.readSeries(symbol),
        (value) => JSON.stringify(value) === JSON.stringify(expected.get(symbol)),
        20_000,
      );
      expect(series).toEqual(expected.get(symbol));
    }
    // Let the refused batch be read again and refused a few times, then stop, as a crash would.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await first.stop();
    expect(await suite.redis.get('stock1')).toBeNull();

    // Redis takes stock1 now. Had any offset past its refused quotes been committed, the
    // restarted ingestor would not read them again and stock1 would stay incomplete.
    await suite.redis.del('stock1:20261121:orders');
    const second = await startIngestor();
    try {
      const stock1 = await eventually(
        () => suite.readSeries('stock1'),
        (value) => JSON.stringify(value) === JSON.stringify(expected.get('stock1')),
        20_000,
      );
      expect(stock1).toEqual(expected.get('stock1'));
    } finally {
      await second.stop();
    }
  });
});

describe('price ingestor on a topic that does not exist yet', () => {
  let suite: IngestorSuite;

  beforeAll(async () => {
    suite = await openIngestorSuite({ createTopic: false });
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('waits for its owner, the price fetcher, to create it (a first deployment), then ingests what is published', async () => {
    const app = suite.createIngestor();
    let started = false;
    const starting = app.start().then(() => {
      started = true;
    });
    try {
      // A consumer never creates the topic: it is still missing, and the ingestor not started.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const admin = suite.kafka.admin();
      await admin.connect();
      const exists = (await admin.listTopics()).includes(suite.topic);
      await admin.disconnect();
      expect({ exists, started }).toEqual({ exists: false, started: false });

      await ensureTopics(suite.kafka, [topicConfig(suite.topic, 3, 1)]);
      await starting;

      const quote = quotesFromCsv('20261121').find(({ symbol }) => symbol === 'stock3')!;
      await publishQuotes(suite.topic, [quote]);
      const series = await eventually(
        () => suite.redis.get('stock3'),
        (value) => value !== null,
        20_000,
      );
      expect(JSON.parse(series!)).toEqual({ time: [`${quote.time.slice(0, 4)}00`], price: [quote.price] });
    } finally {
      await starting.catch(() => undefined);
      await app.stop();
    }
  });
});
