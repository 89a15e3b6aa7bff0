/**
 * Calendar dates and clock times as the exchange sees them, in its own time zone (the Tehran
 * Stock Exchange trades on Asia/Tehran time). Dates are `yyyymmdd`, times `hhmmss`, both strings
 * that sort in time order.
 */
export interface ExchangeMoment {
  date: string;
  time: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, found);
  }
  return found;
}

/** The exchange's date and time at an instant. */
export function toExchangeMoment(instant: Date, timeZone: string): ExchangeMoment {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(instant)
      .map(({ type, value }) => [type, value]),
  );
  return {
    date: `${parts.year}${parts.month}${parts.day}`,
    time: `${parts.hour}${parts.minute}${parts.second}`,
  };
}

/** The instant at which the exchange's clock shows `date` `time`. */
export function fromExchangeMoment(moment: ExchangeMoment, timeZone: string): Date {
  const asUtc = wallClockAsUtc(moment);
  // The zone's offset at that moment; a second pass settles moments near an offset change.
  let instant = asUtc - offsetMs(new Date(asUtc), timeZone);
  instant = asUtc - offsetMs(new Date(instant), timeZone);
  return new Date(instant);
}

function offsetMs(instant: Date, timeZone: string): number {
  const wall = wallClockAsUtc(toExchangeMoment(instant, timeZone));
  return wall - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The epoch milliseconds of a date and time read as if they were UTC. */
function wallClockAsUtc({ date, time }: ExchangeMoment): number {
  return Date.UTC(
    Number(date.slice(0, 4)),
    Number(date.slice(4, 6)) - 1,
    Number(date.slice(6, 8)),
    Number(time.slice(0, 2)),
    Number(time.slice(2, 4)),
    Number(time.slice(4, 6)),
  );
}

/** `hhmmss` of the start of the minute that `time` falls in. */
export function minuteOf(time: string): string {
  return `${time.slice(0, 4)}00`;
}

/** The calendar date `days` days after `date` (before it when negative); `yyyymmdd` both. */
export function addDays(date: string, days: number): string {
  const shifted = new Date(
    Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)) + days),
  );
  return shifted.toISOString().slice(0, 10).replaceAll('-', '');
}

/** `yyyymmdd` -> `yyyy-mm-dd`. */
export function isoDate(date: string): string {
  return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
}

export const DATE_PATTERN = /^\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/;
export const TIME_PATTERN = /^([01]\d|2[0-3])[0-5]\d[0-5]\d$/;
