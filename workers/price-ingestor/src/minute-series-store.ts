import { minuteOf, quoteOrder, seriesKeys, type PriceQuote, type Redis } from '@brokerage/common';

// Applies one stock-day's minute updates atomically. For each (minute, order, price): the update
// wins only if its order (time.tradeNumber) is later than the last applied in that minute, so a
// replayed or out-of-order message changes nothing.
//
// The series JSON is edited as a string rather than decoded and re-encoded: an update at or after
// the last minute (nearly all of them, as trades arrive in order) is an append or a replacement of
// the last price, a few substring operations; only an earlier minute parses the arrays. Prices stay
// the digits they were sent as (cjson would print 14 significant digits).
//
// KEYS: latest series, latest date, the day's series, the day's per-minute tick orders
// ARGV: date, then minute, order, price for each update
const APPLY_MINUTES = `
local MARK = '"],"price":['

local function put(raw, minute, price)
  if not raw then
    return '{"time":["' .. minute .. '"],"price":[' .. price .. ']}'
  end
  local split = string.find(raw, MARK, 1, true)
  local last = string.sub(raw, split - 6, split - 1)
  if minute > last then
    return string.sub(raw, 1, split) .. ',"' .. minute .. string.sub(raw, split, -3) .. ',' .. price .. ']}'
  end
  local pricesFrom = split + #MARK
  if minute == last then
    local before = string.match(string.sub(raw, pricesFrom, -3), '^(.*),')
    return string.sub(raw, 1, pricesFrom - 1) .. (before and (before .. ',') or '') .. price .. ']}'
  end
  local times, prices = {}, {}
  for time in string.gmatch(string.sub(raw, 10, split), '"(%d+)"') do times[#times + 1] = time end
  for amount in string.gmatch(string.sub(raw, pricesFrom, -3), '(%d+)') do prices[#prices + 1] = amount end
  local lo, hi = 1, #times
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    if times[mid] < minute then lo = mid + 1 else hi = mid - 1 end
  end
  if times[lo] == minute then
    prices[lo] = price
  else
    table.insert(times, lo, minute)
    table.insert(prices, lo, price)
  end
  return '{"time":["' .. table.concat(times, '","') .. '"],"price":[' .. table.concat(prices, ',') .. ']}'
end

local date = ARGV[1]
local raw = redis.call('GET', KEYS[3])
local changed = false
for i = 2, #ARGV, 3 do
  local minute, order = ARGV[i], ARGV[i + 1]
  local last = redis.call('HGET', KEYS[4], minute)
  if (not last) or order > last then
    redis.call('HSET', KEYS[4], minute, order)
    raw = put(raw, minute, ARGV[i + 2])
    changed = true
  end
end
if not changed then return 0 end
redis.call('SET', KEYS[3], raw)
local latest = redis.call('GET', KEYS[2])
if (not latest) or date >= latest then
  if latest ~= date then redis.call('SET', KEYS[2], date) end
  redis.call('SET', KEYS[1], raw)
end
return 1
`;

interface MinuteUpdate {
  time: string;
  seq: number;
  price: number;
}

type RedisWithSeries = Redis & {
  applyMinutes(...args: Array<string | number>): Promise<number>;
};

/** Writes quotes into the minute series (see seriesKeys for the layout). */
export class MinuteSeriesStore {
  private readonly redis: RedisWithSeries;

  constructor(redis: Redis) {
    redis.defineCommand('applyMinutes', { numberOfKeys: 4, lua: APPLY_MINUTES });
    this.redis = redis as RedisWithSeries;
  }

  /**
   * Applies a batch: quotes are first folded to the latest per stock, day and minute, then each
   * stock-day is one script call, all of them in one pipelined round trip. Returns how many
   * stock-days changed.
   */
  async apply(quotes: PriceQuote[]): Promise<number> {
    const byStockDay = new Map<
      string,
      { symbol: string; date: string; minutes: Map<string, MinuteUpdate> }
    >();
    for (const quote of quotes) {
      const key = `${quote.symbol}\u0000${quote.date}`;
      let group = byStockDay.get(key);
      if (!group) {
        group = { symbol: quote.symbol, date: quote.date, minutes: new Map() };
        byStockDay.set(key, group);
      }
      const minute = minuteOf(quote.time);
      const current = group.minutes.get(minute);
      if (!current || quote.time > current.time || (quote.time === current.time && quote.seq > current.seq)) {
        group.minutes.set(minute, { time: quote.time, seq: quote.seq, price: quote.price });
      }
    }
    if (byStockDay.size === 0) return 0;
    const pipeline = this.redis.pipeline() as unknown as {
      applyMinutes(...args: Array<string | number>): void;
      exec(): Promise<Array<[Error | null, unknown]> | null>;
    };
    for (const { symbol, date, minutes } of byStockDay.values()) {
      const args: Array<string | number> = [
        seriesKeys.latest(symbol),
        seriesKeys.latestDate(symbol),
        seriesKeys.day(symbol, date),
        seriesKeys.dayTicks(symbol, date),
        date,
      ];
      for (const [minute, update] of minutes) args.push(minute, quoteOrder(update), String(update.price));
      pipeline.applyMinutes(...args);
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
    return results.filter(([, changed]) => changed === 1).length;
  }
}
