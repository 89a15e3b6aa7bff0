import { createRedis, type Redis } from '@brokerage/redis';
import { createLogger } from '@brokerage/service';
import { startDedicatedBroker, type DedicatedBroker } from '../support/dedicated-broker';
import { eventually, expectedSeriesFromCsv } from '../support/price-series';
import { spawnService, type ServiceProcess } from '../support/processes';
import { testRedisUrl, uniqueSuffix } from '../support/services';

// The disaster-recovery promise of the price pipeline, with real processes and a real broker:
// SIGKILL the fetcher, then the ingestor, then stop and restart the broker, each in the middle of
// a replay; afterwards the Redis series equal, value for value, the series computed from the CSV.
//
// This suite runs its own broker, so that stopping it does not disturb the suites running beside it.

// An hour of trading in 30 s: long enough to kill things mid-replay on a slow machine.
const REPLAY_SPEED = 120;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('price pipeline recovery', () => {
  const suffix = uniqueSuffix();
  const seriesPrefix = `test:${suffix}:prices:`;
  let broker: DedicatedBroker;
  let brokers: string;
  let redis: Redis;
  const processes: ServiceProcess[] = [];
  /** While true, a worker that exits is started again (restartedWhenItExits). */
  let orchestrating = true;

  beforeAll(async () => {
    broker = await startDedicatedBroker();
    brokers = broker.brokers;
    redis = createRedis({
      url: testRedisUrl,
      keyPrefix: '',
      logger: createLogger({ service: 't', level: 'silent' }),
    });
  }, 120_000);

  afterAll(async () => {
    orchestrating = false;
    await Promise.all(processes.map((process) => process.kill('SIGKILL')));
    broker.destroy();
    const keys = await redis.keys(`test:${suffix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }, 120_000);

  const fetcher = () =>
    spawnService('workers/price-fetcher/src/index.ts', {
      KAFKA_BROKERS: brokers,
      REDIS_URL: testRedisUrl,
      REDIS_KEY_PREFIX: `test:${suffix}:fetcher:`,
      PRICE_SOURCE: 'csv',
      REPLAY_SPEED: String(REPLAY_SPEED),
      REPLAY_DATE: '20261121',
      FETCH_INTERVAL_MS: '100',
    });
  const ingestor = () =>
    spawnService('workers/price-ingestor/src/index.ts', {
      KAFKA_BROKERS: brokers,
      REDIS_URL: testRedisUrl,
      PRICES_KEY_PREFIX: seriesPrefix,
      CONSUMER_GROUP: `ingestor-${suffix}`,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    });
  async function started(make: () => Promise<ServiceProcess>) {
    const service = await make();
    processes.push(service);
    await service.ready(60_000);
    return service;
  }

  // A worker whose Kafka consumer gives up exits on purpose, and the orchestrator starts it again.
  // kafkajs may give up while the only broker restarts ("Failed to find group coordinator", not
  // retried), so during that step the test plays the orchestrator.
  function restartedWhenItExits(
    service: ServiceProcess,
    make: () => Promise<ServiceProcess>,
    replace: (next: ServiceProcess) => void,
  ) {
    service.child.once('exit', () => {
      if (!orchestrating) return;
      started(make).then(
        (next) => {
          replace(next);
          restartedWhenItExits(next, make, replace);
        },
        (error: unknown) => process.stderr.write(`restart failed: ${String(error)}\n`),
      );
    });
  }

  it('loses no minute and repeats none across a fetcher crash, an ingestor crash and a broker restart', async () => {
    let fetcherProcess = await started(fetcher);
    let ingestorProcess = await started(ingestor);

    // Fetcher killed mid-replay; minutes pass while it is down, which it must backfill.
    await sleep(4_000);
    await fetcherProcess.kill('SIGKILL');
    await sleep(3_000);
    fetcherProcess = await started(fetcher);

    // Ingestor killed mid-stream: its uncommitted batches come again and must change nothing.
    await sleep(3_000);
    await ingestorProcess.kill('SIGKILL');
    await sleep(1_000);
    ingestorProcess = await started(ingestor);

    // The broker goes away and comes back: producers and consumers retry and lose nothing acknowledged.
    restartedWhenItExits(fetcherProcess, fetcher, (next) => (fetcherProcess = next));
    restartedWhenItExits(ingestorProcess, ingestor, (next) => (ingestorProcess = next));
    await sleep(3_000);
    broker.stop();
    await sleep(3_000);
    broker.start();

    const expected = expectedSeriesFromCsv();
    for (const [symbol, series] of expected) {
      const actual = await eventually(
        async () => JSON.parse((await redis.get(`${seriesPrefix}${symbol}`)) ?? 'null') as unknown,
        (value) => JSON.stringify(value) === JSON.stringify(series),
        90_000,
      );
      expect(actual).toEqual(series);
    }
    orchestrating = false;
    await Promise.all([fetcherProcess.kill('SIGTERM'), ingestorProcess.kill('SIGTERM')]);
  }, 240_000);
});
