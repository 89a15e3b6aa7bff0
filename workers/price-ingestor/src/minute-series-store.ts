import { type Redis } from '@brokerage/redis';
import { quoteOrder, type PriceQuote, type TradeCancellation } from '@brokerage/price-fetcher-contract';
import { pricePointsChannel, seriesKeys } from '@brokerage/price-ingestor-contract';
import { MinuteFold } from './minute-fold';
import type { PriceBatch } from './price-batch';
import { TAKE_BACK } from './take-back-script';

// Applies one stock-day's minute updates atomically. For each (minute, order, price): the update
// wins only if its order (`hhmmss.tradeNumber`) is later than the last applied in that minute, so a
// replayed or out-of-order message changes nothing.
//
// Each minute's last applied order is kept in a string beside the series, 16 bytes a minute in the
// series' own order (an order is `hhmmss.` and a 9-digit trade number: fixed width, so comparing
// strings compares orders). Both are edited as strings, with a fixed number of Redis calls (two
// GETs, two SETs, the latest day's GET and SET) whatever the number of minutes. Not a hash of
// orders by minute: `HMGET` and `HSET` of a batch's minutes scan a small hash's entries once per
// field, which would cost more than the rest of the script together.
//
// Updates come sorted by minute, so the ones after the series' last minute (nearly all of them:
// trades arrive in order) are appended in one concatenation, of the lists as the client sent them,
// with no update parsed; one at the last minute replaces its price and order with a few substring
// operations; only an earlier minute parses the times (parsing every update out of one string
// would be the script's largest cost). Prices stay the digits they were sent as (cjson would
// print 14 significant digits).
//
// KEYS: latest series, latest date, the day's series, the day's orders, the day's orders as an
// older ingestor kept them (a hash by minute; moved into the string the first time the day changes)
// ARGV: date; then the updates, sorted by minute, as three lists: the minutes joined by '","' as
// the series spells them (9 bytes apart), their orders concatenated (16 bytes each) and their
// prices joined by ','; then the pub/sub channel of the stock's new points ('' for none) and the
// stock's symbol.
//
// When the write changes the latest day, the minutes it added or changed are published on the
// channel (a PricePointsEvent), in the script: a listener hears of a point exactly when a reader
// can see it, and only of points that changed the series.
const APPLY_MINUTES = `
local MARK = '"],"price":['
local W = 16
-- The minutes list: each hhmm00 and the three bytes that join it to the next.
local MINUTE_STRIDE = 9

local function lastMinute(raw)
  local split = string.find(raw, MARK, 1, true)
  return string.sub(raw, split - 6, split - 1), split
end

local function timesOf(raw, split)
  local times = {}
  for time in string.gmatch(string.sub(raw, 10, split), '"(%d+)"') do times[#times + 1] = time end
  return times
end

-- An update of a minute before the series' last (whose times end at split): the times are
-- parsed to find its place.
local function putBefore(raw, split, orders, minute, order, price)
  local pricesFrom = split + #MARK
  local times = timesOf(raw, split)
  local lo, hi = 1, #times
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    if times[mid] < minute then lo = mid + 1 else hi = mid - 1 end
  end
  local at = (lo - 1) * W
  local prices = {}
  for amount in string.gmatch(string.sub(raw, pricesFrom, -3), '(%d+)') do prices[#prices + 1] = amount end
  if times[lo] == minute then
    if order <= string.sub(orders, at + 1, at + W) then return raw, orders, false end
    prices[lo] = price
    orders = string.sub(orders, 1, at) .. order .. string.sub(orders, at + W + 1)
  else
    table.insert(times, lo, minute)
    table.insert(prices, lo, price)
    orders = string.sub(orders, 1, at) .. order .. string.sub(orders, at + 1)
  end
  raw = '{"time":["' .. table.concat(times, '","') .. '"],"price":[' .. table.concat(prices, ',') .. ']}'
  return raw, orders, true
end

local date = ARGV[1]
local raw = redis.call('GET', KEYS[3])
local orders = redis.call('GET', KEYS[4])
local moved = false
if raw and not orders then
  local _, split = lastMinute(raw)
  local times = timesOf(raw, split)
  local kept = redis.call('HMGET', KEYS[5], unpack(times))
  -- A minute without a kept order (none should be) takes any update: spaces sort before digits.
  for i = 1, #times do kept[i] = kept[i] or string.rep(' ', W) end
  orders = table.concat(kept)
  redis.call('DEL', KEYS[5])
  moved = true
end

-- The updates' i-th minute and order; prices are taken in turn from the front of their list.
local minutes, orderList, priceList = ARGV[2], ARGV[3], ARGV[4]
local count = #orderList / W
local priceFrom = 1
local function nextPrice()
  local comma = string.find(priceList, ',', priceFrom, true)
  local price = string.sub(priceList, priceFrom, (comma or 0) - 1)
  priceFrom = comma and comma + 1 or #priceList + 1
  return price
end

local changed = false
-- The minutes this write changes before the appended ones, and their prices, for the announcement.
local changedTimes, changedPrices = {}, {}
local i = 1
-- Updates at or before the series' last minute, one by one (the first of a batch often
-- continues the last minute; earlier ones are rare).
while raw and i <= count do
  local minute = string.sub(minutes, (i - 1) * MINUTE_STRIDE + 1, (i - 1) * MINUTE_STRIDE + 6)
  local last, split = lastMinute(raw)
  if minute > last then break end
  local order, price = string.sub(orderList, (i - 1) * W + 1, i * W), nextPrice()
  if minute < last then
    local updated
    raw, orders, updated = putBefore(raw, split, orders, minute, order, price)
    changed = changed or updated
    if updated then
      changedTimes[#changedTimes + 1] = minute
      changedPrices[#changedPrices + 1] = price
    end
  elseif order > string.sub(orders, -W) then
    local pricesFrom = split + #MARK
    local before = string.match(string.sub(raw, pricesFrom, -3), '^(.*),')
    raw = string.sub(raw, 1, pricesFrom - 1) .. (before and (before .. ',') or '') .. price .. ']}'
    orders = string.sub(orders, 1, -W - 1) .. order
    changed = true
    changedTimes[#changedTimes + 1] = minute
    changedPrices[#changedPrices + 1] = price
  end
  i = i + 1
end
local pointTimes, pointPrices = table.concat(changedTimes, '","'), table.concat(changedPrices, ',')
-- The rest come after the last minute: appended together, as the lists came.
if i <= count then
  local times = string.sub(minutes, (i - 1) * MINUTE_STRIDE + 1)
  local amounts = string.sub(priceList, priceFrom)
  local newOrders = string.sub(orderList, (i - 1) * W + 1)
  if raw then
    local _, split = lastMinute(raw)
    raw = string.sub(raw, 1, split) .. ',"' .. times .. string.sub(raw, split, -3) .. ',' .. amounts .. ']}'
    orders = orders .. newOrders
  else
    raw = '{"time":["' .. times .. '"],"price":[' .. amounts .. ']}'
    orders = newOrders
  end
  changed = true
  if pointTimes == '' then
    pointTimes, pointPrices = times, amounts
  else
    pointTimes, pointPrices = pointTimes .. '","' .. times, pointPrices .. ',' .. amounts
  end
end
if not changed then
  if moved then redis.call('SET', KEYS[4], orders) end
  return 0
end
redis.call('SET', KEYS[3], raw)
redis.call('SET', KEYS[4], orders)
local latest = redis.call('GET', KEYS[2])
if (not latest) or date >= latest then
  if latest ~= date then redis.call('SET', KEYS[2], date) end
  redis.call('SET', KEYS[1], raw)
  if ARGV[5] ~= '' then
    redis.call('PUBLISH', ARGV[5], '{"symbol":"' .. ARGV[6] .. '","date":"' .. date .. '","time":["' ..
      pointTimes .. '"],"price":[' .. pointPrices .. ']}')
  end
end
return 1
`;

type RedisWithSeries = Redis & {
  applyMinutes(...args: string[]): Promise<number>;
  takeBack(...args: string[]): Promise<number>;
};

interface SeriesPipeline {
  applyMinutes(...args: string[]): void;
  takeBack(...args: string[]): void;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

export interface MinuteSeriesStoreOptions {
  /**
   * Announce the new points of each stock's latest day on `pricePointsChannel(prefix, symbol)`;
   * none when left out.
   */
  pointsChannelPrefix?: string;
}

/** Writes quotes into the minute series (see seriesKeys for the layout). */
export class MinuteSeriesStore {
  private readonly redis: RedisWithSeries;
  private readonly channelPrefix: string | undefined;

  constructor(redis: Redis, options: MinuteSeriesStoreOptions = {}) {
    this.channelPrefix = options.pointsChannelPrefix;
    redis.defineCommand('applyMinutes', { numberOfKeys: 5, lua: APPLY_MINUTES });
    redis.defineCommand('takeBack', { numberOfKeys: 5, lua: TAKE_BACK });
    this.redis = redis as RedisWithSeries;
  }

  /** Applies quotes: folded first to the latest per stock, day and minute, then written. */
  async apply(quotes: Iterable<PriceQuote>): Promise<number> {
    const fold = new MinuteFold();
    for (const quote of quotes) fold.add(quote);
    return this.write(fold);
  }

  /**
   * Writes a folded batch: each stock-day is one script call, all of them in one pipelined round
   * trip. Returns how many stock-days changed.
   */
  async write(fold: MinuteFold): Promise<number> {
    if (fold.stockDays.length === 0) return 0;
    const pipeline = this.redis.pipeline() as unknown as SeriesPipeline;
    queueFold(pipeline, fold, this.channelPrefix);
    return run(pipeline);
  }

  /**
   * Writes a batch's steps in their order, in one pipelined round trip (Redis runs one
   * connection's commands in order). Returns how many script calls changed a series.
   */
  async writeBatch(batch: PriceBatch): Promise<number> {
    const pipeline = this.redis.pipeline() as unknown as SeriesPipeline;
    let calls = 0;
    for (const step of batch.steps) {
      if ('fold' in step) {
        calls += step.fold.stockDays.length;
        queueFold(pipeline, step.fold, this.channelPrefix);
      } else {
        calls += 1;
        queueTakeBack(pipeline, step.cancellation);
      }
    }
    return calls === 0 ? 0 : run(pipeline);
  }

  /** Takes one cancelled trade back out of its minute (see take-back-script.ts). */
  async takeBack(cancellation: TradeCancellation): Promise<number> {
    const pipeline = this.redis.pipeline() as unknown as SeriesPipeline;
    queueTakeBack(pipeline, cancellation);
    return run(pipeline);
  }
}

function seriesKeysOf(symbol: string, date: string): string[] {
  return [
    seriesKeys.latest(symbol),
    seriesKeys.latestDate(symbol),
    seriesKeys.day(symbol, date),
    seriesKeys.dayOrders(symbol, date),
    seriesKeys.legacyDayTicks(symbol, date),
  ];
}

function queueFold(pipeline: SeriesPipeline, fold: MinuteFold, channelPrefix: string | undefined): void {
  for (const { symbol, date, minutes } of fold.stockDays) {
    let times = '';
    let orders = '';
    let prices = '';
    // Sorted by minute: the script appends the minutes after the series' last in one go.
    for (const minute of [...minutes.keys()].sort((a, b) => a - b)) {
      const { time, seq, price } = minutes.get(minute)!;
      // As minuteOf and quoteOrder spell them: `hhmm00`, and `hhmmss.` then the 9-digit trade number.
      const separator = times ? '","' : '';
      times += `${separator}${pad(minute, 4)}00`;
      orders += `${pad(time, 6)}.${pad(seq, 9)}`;
      prices += `${prices ? ',' : ''}${price}`;
    }
    const channel = channelPrefix === undefined ? '' : pricePointsChannel(channelPrefix, symbol);
    pipeline.applyMinutes(...seriesKeysOf(symbol, date), date, times, orders, prices, channel, symbol);
  }
}

function queueTakeBack(pipeline: SeriesPipeline, { symbol, date, cancelled, minuteLast }: TradeCancellation) {
  pipeline.takeBack(
    ...seriesKeysOf(symbol, date),
    date,
    `${cancelled.time.slice(0, 4)}00`,
    quoteOrder(cancelled),
    minuteLast ? quoteOrder(minuteLast) : '',
    minuteLast ? String(minuteLast.price) : '',
  );
}

async function run(pipeline: SeriesPipeline): Promise<number> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error);
  if (failed?.[0]) throw failed[0];
  return results.filter(([, changed]) => changed === 1).length;
}
