import path from 'node:path';
import { internalAuthConfig } from '@brokerage/auth';
import { kafkaSecurityConfig, kafkaTopicCreationConfig } from '@brokerage/kafka';
import { baseConfigSchema, env } from '@brokerage/service';
import { DATE_PATTERN, PriceFetcherTopics } from '@brokerage/price-fetcher-contract';
import { StocksTopics } from '@brokerage/stocks-contract';
import { z } from 'zod';
import { BROWSER_HEADERS } from './sources/tsetmc-http';

/** Weekday names in the order of `Date.getUTCDay()`. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const stockList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z
        .string()
        .regex(/^\d{1,20}:[A-Za-z0-9_]{1,32}$/, 'each stock must be <instrument id>:<symbol>')
        .transform((entry) => {
          const [id, symbol] = entry.split(':') as [string, string];
          return { id, symbol: symbol.toLowerCase() };
        }),
    ),
  );

export const priceFetcherConfigSchema = baseConfigSchema
  .extend({
    PORT: env.port(4101),
    HOST: env.host(),
    KAFKA_BROKERS: env.kafkaBrokers(),
    ...kafkaTopicCreationConfig,
    ...kafkaSecurityConfig,
    PRICES_TOPIC: z.string().min(1).default(PriceFetcherTopics.priceQuotes),
    REDIS_URL: env.redisUrl(),
    /** Where the fetcher keeps its checkpoints (last minute published per stock). */
    REDIS_KEY_PREFIX: z.string().default('price-fetcher:'),
    PRICE_SOURCE: z.enum(['csv', 'tsetmc']).default('csv'),
    /** How often to fetch; by default a minute, or one replayed minute for the CSV source. */
    FETCH_INTERVAL_MS: z.coerce.number().int().min(10).optional(),
    EXCHANGE_TIME_ZONE: z.string().default('Asia/Tehran'),
    /**
     * How many days back, before today (exchange time), a fetcher that was down fetches what it
     * missed; older days are passed over (logged), so that a fetcher down for months does not
     * flood the topic. The ingestor's topic keeps 7 days.
     */
    BACKFILL_MAX_DAYS: z.coerce.number().int().min(0).max(60).default(7),
    /**
     * Where the list of stocks to fetch comes from: the stocks service (its owner), asked at start
     * and followed on its listings topic. Set in every deployment and by `npm run dev`.
     */
    STOCKS_SUBGRAPH_URL: z.url({ error: 'must be a URL' }).optional(),
    STOCK_LISTINGS_TOPIC: z.string().min(1).default(StocksTopics.stockListings),
    /** Each fetcher process follows the listings in a group of its own: this name and a random suffix. */
    LISTINGS_CONSUMER_GROUP: z.string().min(1).default('price-fetcher'),
    SERVICE_TIMEOUT_MS: env.milliseconds(5_000),
    ...internalAuthConfig,
    /**
     * Without STOCKS_SUBGRAPH_URL only (the pipeline on its own, with no stocks service): a fixed
     * list, `<instrument id>:<symbol>,...`; the CSV source defaults to every stock in its file.
     */
    STOCKS: stockList.optional(),
    CSV_PATH: z.string().default(path.resolve(__dirname, '../../../data/price_data.csv')),
    REPLAY_SPEED: z.coerce.number().positive().max(100_000).default(60),
    /** The trading day the replay plays (yyyymmdd); by default the day the replay first starts. */
    REPLAY_DATE: z.string().regex(DATE_PATTERN).optional(),
    /** How many days, from the replay's first, trade the file again; the replay's clock runs on after. */
    REPLAY_DAYS: z.coerce.number().int().min(1).max(3660).default(1),
    /** Weekdays of those on which the replay holds no session, e.g. `thu,fri` (the Tehran exchange's weekend). */
    REPLAY_CLOSED_WEEKDAYS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((entry) => entry.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(WEEKDAYS, { error: `each weekday must be one of ${WEEKDAYS.join(', ')}` }))),
    TSETMC_BASE_URL: env.url('https://cdn.tsetmc.com'),
    TSETMC_TIMEOUT_MS: env.milliseconds(5_000),
    TSETMC_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
    /** The User-Agent sent to the exchange, which refuses requests without a browser's. */
    TSETMC_USER_AGENT: z.string().min(1).default(BROWSER_HEADERS['User-Agent']!),
    /** More request headers, or other values for the browser-like defaults: a JSON object of strings. */
    TSETMC_HEADERS: z
      .string()
      .default('{}')
      .transform((value, ctx) => {
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be a JSON object of header names to values' });
          return z.NEVER;
        }
      })
      .pipe(z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string())),
  })
  .superRefine((config, ctx) => {
    if (config.STOCKS_SUBGRAPH_URL && config.STOCKS) {
      ctx.addIssue({
        code: 'custom',
        path: ['STOCKS'],
        message: 'the stocks come from STOCKS_SUBGRAPH_URL; set one of the two',
      });
    }
    if (config.PRICE_SOURCE === 'tsetmc' && !config.STOCKS_SUBGRAPH_URL && !config.STOCKS?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['STOCKS_SUBGRAPH_URL'],
        message: 'the tsetmc source needs the stocks to fetch: STOCKS_SUBGRAPH_URL (or a fixed STOCKS)',
      });
    }
  })
  .transform((config) => ({
    ...config,
    FETCH_INTERVAL_MS:
      config.FETCH_INTERVAL_MS ??
      (config.PRICE_SOURCE === 'csv' ? Math.max(10, Math.round(60_000 / config.REPLAY_SPEED)) : 60_000),
  }));
export type PriceFetcherConfig = z.infer<typeof priceFetcherConfigSchema>;
export type StockRef = NonNullable<PriceFetcherConfig['STOCKS']>[number];
