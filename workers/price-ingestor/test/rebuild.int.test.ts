import { eventually, expectedSeriesFromCsv, quotesFromCsv } from '../../../test/support/price-series';
import { deletePrefixedKeys } from '../../../test/support/services';
import { publishQuotes } from '../../../test/support/quotes';
import { rewindIngestors } from '../src/rewind';
import { openIngestorSuite, type IngestorSuite } from './ingestor-suite';

// The disaster-recovery step for Redis (docs/operations.md): every price key is gone; the
// ingestors are stopped, their group rewound (`npm run rebuild-prices`), started again, and the
// series come back equal, value for value, to the series computed from the source.

describe('rebuilding the price series from Kafka', () => {
  let suite: IngestorSuite;

  beforeAll(async () => {
    suite = await openIngestorSuite();
  });

  afterAll(async () => {
    await suite?.close();
  });

  const seriesEqualToSource = async () => {
    const expected = expectedSeriesFromCsv();
    for (const [symbol, series] of expected) {
      const actual = await eventually(
        () => suite.readSeries(symbol),
        (value) => JSON.stringify(value) === JSON.stringify(series),
        30_000,
      );
      expect(actual).toEqual(series);
    }
  };

  it('brings every series back after Redis lost them all', async () => {
    const { kafka, redis, topic, group, prefix } = suite;
    await publishQuotes(topic, quotesFromCsv('20261121'));

    const first = await suite.startIngestor();
    await seriesEqualToSource();

    // A running ingestor holds the group: the rewind refuses rather than race it.
    await expect(rewindIngestors(kafka, group, topic)).rejects.toThrow(/stop the price ingestors first/);
    await first.stop();

    await deletePrefixedKeys(redis, prefix);
    expect(await redis.keys(`${prefix}*`)).toEqual([]);

    await rewindIngestors(kafka, group, topic);
    const second = await suite.startIngestor();
    try {
      await seriesEqualToSource();
    } finally {
      await second.stop();
    }
  }, 120_000);
});
