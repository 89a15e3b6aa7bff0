import { writeFileSync } from 'node:fs';
import path from 'node:path';

// Writes data/price_data.csv: one hour of made-up trades (09:00:00 to 09:59:47) of three
// fictional stocks, at irregular seconds, with prices on a random walk. Deterministic: the same
// seed gives the same file, so the committed sample can be regenerated and checked.
//   npx tsx scripts/generate-price-data.ts

const STOCKS = [
  { symbol: 'Stock1', instrumentId: '44891482026867833', start: 12_340 },
  { symbol: 'Stock2', instrumentId: '35425587644337450', start: 5_670 },
  { symbol: 'Stock3', instrumentId: '65883838195688438', start: 98_700 },
];
const FIRST_SECOND = 9 * 3600;
const LAST_SECOND = 9 * 3600 + 59 * 60 + 47;

/** mulberry32: a small, fast, seedable generator. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function clock(second: number): string {
  const h = Math.floor(second / 3600);
  const m = Math.floor((second % 3600) / 60);
  const s = second % 60;
  return [h, m, s].map((part) => String(part).padStart(2, '0')).join(':');
}

const next = random(20261121);
const rows: Array<{ second: number; line: string }> = [];
for (const [index, stock] of STOCKS.entries()) {
  let price = stock.start;
  // Stock1 opens the hour and Stock3 closes it, so the file spans exactly 09:00:00 to 09:59:47.
  let second = index === 0 ? FIRST_SECOND : FIRST_SECOND + 1 + Math.floor(next() * 10);
  while (second <= LAST_SECOND) {
    price = Math.max(1, Math.round(price * (1 + (next() - 0.5) * 0.01)));
    rows.push({ second, line: `${clock(second)},${stock.symbol},${stock.instrumentId},${price}` });
    second += 2 + Math.floor(next() * 20);
  }
  if (index === STOCKS.length - 1 && rows[rows.length - 1]!.second !== LAST_SECOND) {
    rows.push({
      second: LAST_SECOND,
      line: `${clock(LAST_SECOND)},${stock.symbol},${stock.instrumentId},${price}`,
    });
  }
}
rows.sort((a, b) => a.second - b.second);

const file = path.resolve(__dirname, '../data/price_data.csv');
writeFileSync(file, ['time,symbol,instrument_id,price', ...rows.map(({ line }) => line)].join('\n') + '\n');
console.log(`Wrote ${rows.length} trades to ${path.relative(process.cwd(), file)}`);
