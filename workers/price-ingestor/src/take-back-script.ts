// Takes a cancelled trade back out of one minute of a stock-day's series, atomically. Rare (the
// exchange cancels few trades), so it parses the whole series and its orders instead of editing
// them in place as APPLY_MINUTES does.
//
// If the minute's price was set by the cancelled trade (its stored order is the cancelled one),
// the minute takes the replacement (the latest remaining trade of that minute, which the fetcher
// computed from every trade of the minute it published), or is removed when none remains.
// Otherwise the cancelled trade is not what the minute shows (a later trade set it, or the
// cancelled one was never applied) and the replacement is applied as an ordinary trade: it wins
// only if its order is later. So applying the same take-back again changes nothing.
//
// KEYS: as APPLY_MINUTES (latest series, latest date, the day's series, the day's orders, the
// day's orders as an older ingestor kept them)
// ARGV: date, the minute (hhmm00), the cancelled trade's order, the replacement's order and
// price ('' and '' when the minute has no trade left)
export const TAKE_BACK = `
local MARK = '"],"price":['
local W = 16
local date, minute, cancelled, order, price = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local raw = redis.call('GET', KEYS[3])
local orders = redis.call('GET', KEYS[4]) or ''
local times, prices = {}, {}
if raw then
  local split = string.find(raw, MARK, 1, true)
  for time in string.gmatch(string.sub(raw, 10, split), '"(%d+)"') do times[#times + 1] = time end
  for amount in string.gmatch(string.sub(raw, split + #MARK, -3), '(%d+)') do prices[#prices + 1] = amount end
  if orders == '' then
    local kept = redis.call('HMGET', KEYS[5], unpack(times))
    for i = 1, #times do kept[i] = kept[i] or string.rep(' ', W) end
    orders = table.concat(kept)
    redis.call('DEL', KEYS[5])
    redis.call('SET', KEYS[4], orders)
  end
end

local at, found = #times + 1, false
for i = 1, #times do
  if times[i] >= minute then
    at, found = i, times[i] == minute
    break
  end
end
local before, after = string.sub(orders, 1, (at - 1) * W), string.sub(orders, at * W + 1)
local changed = false
if found then
  local stored = string.sub(orders, (at - 1) * W + 1, at * W)
  if stored == cancelled then
    if order ~= '' then
      prices[at] = price
      orders = before .. order .. after
    else
      table.remove(times, at)
      table.remove(prices, at)
      orders = before .. after
    end
    changed = true
  elseif order ~= '' and order > stored then
    prices[at] = price
    orders = before .. order .. after
    changed = true
  end
elseif order ~= '' then
  table.insert(times, at, minute)
  table.insert(prices, at, price)
  orders = string.sub(orders, 1, (at - 1) * W) .. order .. string.sub(orders, (at - 1) * W + 1)
  changed = true
end
if not changed then return 0 end

local latest = redis.call('GET', KEYS[2])
if #times == 0 then
  -- The day has no trade left: its keys go, and the bare key with them if it showed this day.
  redis.call('DEL', KEYS[3], KEYS[4])
  if latest == date then redis.call('DEL', KEYS[1], KEYS[2]) end
  return 1
end
raw = '{"time":["' .. table.concat(times, '","') .. '"],"price":[' .. table.concat(prices, ',') .. ']}'
redis.call('SET', KEYS[3], raw)
redis.call('SET', KEYS[4], orders)
if (not latest) or date >= latest then
  if latest ~= date then redis.call('SET', KEYS[2], date) end
  redis.call('SET', KEYS[1], raw)
end
return 1
`;
