import { seriesKeys, type PriceQuote, type Redis } from '@brokerage/common';
import { MinuteFold } from './minute-fold';

// Applies one stock-day's minute updates atomically. For each (minute, order, price): the update
// wins only if its order (time.tradeNumber) is later than the last applied in that minute, so a
// replayed or out-of-order message changes nothing.
//
// The script makes a fixed number of Redis calls whatever the number of minutes (one HMGET of
// their last orders, one HSET of the winners', GET and SET of the series): a call from Lua costs
// about as much as the work it does, and a batch holds tens of minutes per stock.
//
// The series JSON is edited as a string rather than decoded and re-encoded. Updates come sorted by
// minute, so the winners after the series' last minute (nearly all of them: trades arrive in
// order) are appended in one concatenation; a winner at the last minute replaces its price with a
// few substring operations; only an earlier minute parses the arrays. Prices stay the digits they
// were sent as (cjson would print 14 significant digits).
//
// KEYS: latest series, latest date, the day's series, the day's per-minute tick orders
// ARGV: date; then the updates, sorted by minute, as one string `minute order price minute ...`
// (one argument rather than three per update: the client's cost is per argument)
const APPLY_MINUTES = `
local MARK = '"],"price":['

local function lastMinute(raw)
  local split = string.find(raw, MARK, 1, true)
  return string.sub(raw, split - 6, split - 1), split
end

local function put(raw, minute, price)
  local last, split = lastMinute(raw)
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
local minutes, orders, prices = {}, {}, {}
for minute, order, price in string.gmatch(ARGV[2], '(%d+) ([%d.]+) (%d+)') do
  minutes[#minutes + 1] = minute
  orders[#orders + 1] = order
  prices[#prices + 1] = price
end
local lastOrders = redis.call('HMGET', KEYS[4], unpack(minutes))
local ticks, winners = {}, {}
for i = 1, #minutes do
  local order = orders[i]
  local last = lastOrders[i]
  if (not last) or order > last then
    ticks[#ticks + 1] = minutes[i]
    ticks[#ticks + 1] = order
    winners[#winners + 1] = i
  end
end
if #winners == 0 then return 0 end
redis.call('HSET', KEYS[4], unpack(ticks))

local raw = redis.call('GET', KEYS[3])
local w = 1
-- Winners at or before the series' last minute, one by one (rare).
while raw and w <= #winners do
  local i = winners[w]
  if minutes[i] > lastMinute(raw) then break end
  raw = put(raw, minutes[i], prices[i])
  w = w + 1
end
-- The rest come after the last minute: appended together.
if w <= #winners then
  local newTimes, newPrices = {}, {}
  for k = w, #winners do
    local i = winners[k]
    newTimes[#newTimes + 1] = minutes[i]
    newPrices[#newPrices + 1] = prices[i]
  end
  local times, amounts = table.concat(newTimes, '","'), table.concat(newPrices, ',')
  if raw then
    local _, split = lastMinute(raw)
    raw = string.sub(raw, 1, split) .. ',"' .. times .. string.sub(raw, split, -3) .. ',' .. amounts .. ']}'
  else
    raw = '{"time":["' .. times .. '"],"price":[' .. amounts .. ']}'
  end
end
redis.call('SET', KEYS[3], raw)
local latest = redis.call('GET', KEYS[2])
if (not latest) or date >= latest then
  if latest ~= date then redis.call('SET', KEYS[2], date) end
  redis.call('SET', KEYS[1], raw)
end
return 1
`;

type RedisWithSeries = Redis & {
  applyMinutes(...args: string[]): Promise<number>;
};

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** Writes quotes into the minute series (see seriesKeys for the layout). */
export class MinuteSeriesStore {
  private readonly redis: RedisWithSeries;

  constructor(redis: Redis) {
    redis.defineCommand('applyMinutes', { numberOfKeys: 4, lua: APPLY_MINUTES });
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
    const pipeline = this.redis.pipeline() as unknown as {
      applyMinutes(...args: string[]): void;
      exec(): Promise<Array<[Error | null, unknown]> | null>;
    };
    for (const { symbol, date, minutes } of fold.stockDays) {
      let updates = '';
      // Sorted by minute: the script appends the minutes after the series' last in one go.
      for (const minute of [...minutes.keys()].sort((a, b) => a - b)) {
        const { time, seq, price } = minutes.get(minute)!;
        // As minuteOf and quoteOrder spell them: `hhmm00`, and `hhmmss.` then the 9-digit trade number.
        updates += `${updates ? ' ' : ''}${pad(minute, 4)}00 ${pad(time, 6)}.${pad(seq, 9)} ${price}`;
      }
      pipeline.applyMinutes(
        seriesKeys.latest(symbol),
        seriesKeys.latestDate(symbol),
        seriesKeys.day(symbol, date),
        seriesKeys.dayTicks(symbol, date),
        date,
        updates,
      );
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
    return results.filter(([, changed]) => changed === 1).length;
  }
}
