import { readFileSync } from 'node:fs';
import path from 'node:path';

export const priceCsvPath = path.resolve(__dirname, '../../data/price_data.csv');

/**
 * The oracle for price tests: each stock's minute series computed straight from the CSV, with no
 * code shared with the fetcher or the ingestor. Key: lower-case symbol.
 */
export function expectedSeriesFromCsv(file = priceCsvPath): Map<string, { time: string[]; price: number[] }> {
  const lastOfMinute = new Map<string, Map<string, number>>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
    const [clock, symbol, , price] = line.split(',');
    const minute = `${clock!.slice(0, 2)}${clock!.slice(3, 5)}00`;
    const minutes = lastOfMinute.get(symbol!.toLowerCase()) ?? new Map<string, number>();
    minutes.set(minute, Number(price)); // rows are in time order: the last one of a minute wins
    lastOfMinute.set(symbol!.toLowerCase(), minutes);
  }
  return new Map(
    [...lastOfMinute].map(([symbol, minutes]) => {
      const times = [...minutes.keys()].sort();
      return [symbol, { time: times, price: times.map((time) => minutes.get(time)!) }];
    }),
  );
}

/** The CSV's rows as quotes of `date`, in file order (seq = line number, as the CSV source does). */
export function quotesFromCsv(date: string, file = priceCsvPath) {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line, index) => {
      const [clock, symbol, stockId, price] = line.split(',');
      return {
        stockId: stockId!,
        symbol: symbol!.toLowerCase(),
        date,
        time: clock!.replaceAll(':', ''),
        seq: index + 2,
        price: Number(price),
      };
    });
}

/** Polls until `read` returns a value `done` accepts, or fails after `timeoutMs` with the last value. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
