import { readFileSync } from 'node:fs';
import { TIME_PATTERN } from '@brokerage/price-fetcher-contract';

/** One row of data/price_data.csv (see data/README.md). */
export interface CsvTrade {
  /** `hhmmss` */
  time: string;
  symbol: string;
  instrumentId: string;
  price: number;
  /** Position in the file, which orders trades within one second. */
  line: number;
}

/** Reads and validates a price CSV; throws with the line number of the first bad row. */
export function readPriceCsv(file: string): CsvTrade[] {
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- the operator's CSV path setting, read at start
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = lines[0]?.trim();
  if (header !== 'time,symbol,instrument_id,price') {
    throw new Error(`${file}: expected the header "time,symbol,instrument_id,price", found "${header}"`);
  }
  const trades: CsvTrade[] = [];
  lines.slice(1).forEach((raw, index) => {
    const line = index + 2;
    if (raw.trim() === '') return;
    const [clock, symbol, instrumentId, price, ...rest] = raw.split(',');
    const time = clock?.replaceAll(':', '') ?? '';
    const amount = Number(price);
    if (
      rest.length > 0 ||
      !TIME_PATTERN.test(time) ||
      !/^[A-Za-z0-9_]{1,32}$/.test(symbol ?? '') ||
      !/^\d{1,20}$/.test(instrumentId ?? '') ||
      !Number.isSafeInteger(amount) ||
      amount <= 0
    ) {
      throw new Error(`${file}:${line}: not a valid trade row: "${raw}"`);
    }
    trades.push({ time, symbol: symbol!, instrumentId: instrumentId!, price: amount, line });
  });
  return trades;
}
