import { addDays, fromExchangeMoment, minuteOf, toExchangeMoment } from '@brokerage/price-fetcher-contract';

describe('exchange time (Asia/Tehran, UTC+03:30)', () => {
  it('reads an instant as the exchange date and time', () => {
    expect(toExchangeMoment(new Date('2026-11-21T05:30:16Z'), 'Asia/Tehran')).toEqual({
      date: '20261121',
      time: '090016',
    });
    // 20:30 UTC is already the next day in Tehran.
    expect(toExchangeMoment(new Date('2026-11-20T20:30:00Z'), 'Asia/Tehran')).toEqual({
      date: '20261121',
      time: '000000',
    });
  });

  it('turns an exchange date and time back into the instant', () => {
    expect(fromExchangeMoment({ date: '20261121', time: '095900' }, 'Asia/Tehran').toISOString()).toBe(
      '2026-11-21T06:29:00.000Z',
    );
    expect(fromExchangeMoment({ date: '20261121', time: '000000' }, 'UTC').toISOString()).toBe(
      '2026-11-21T00:00:00.000Z',
    );
  });

  it('puts a time in its minute', () => {
    expect(minuteOf('095947')).toBe('095900');
  });

  it('counts calendar days across month and year ends and leap days', () => {
    expect(addDays('20261231', 1)).toBe('20270101');
    expect(addDays('20280228', 1)).toBe('20280229');
    expect(addDays('20270301', -1)).toBe('20270228');
    expect(addDays('20261121', -7)).toBe('20261114');
    expect(addDays('20261121', 0)).toBe('20261121');
  });
});
