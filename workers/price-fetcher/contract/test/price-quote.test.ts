import {
  decodePriceQuote,
  encodePriceQuote,
  priceQuoteSchema,
  type PriceQuote,
} from '@brokerage/price-fetcher-contract';

const quote: PriceQuote = {
  stockId: '44891482026867833',
  symbol: 'stock1',
  date: '20261121',
  time: '090016',
  seq: 3,
  price: 15580,
};

describe('price quote messages', () => {
  it('round-trip through encode and decode unchanged', () => {
    expect(decodePriceQuote(encodePriceQuote(quote))).toEqual(quote);
  });

  it.each<[string, unknown]>([
    ['a numeric stock id', { ...quote, stockId: Number('44891482026867833') }],
    ['an upper-case symbol', { ...quote, symbol: 'Stock1' }],
    ['an impossible date', { ...quote, date: '20261341' }],
    ['an impossible time', { ...quote, time: '096100' }],
    ['a fractional price', { ...quote, price: 1.5 }],
    ['a zero price', { ...quote, price: 0 }],
    ['a price beyond 2^53', { ...quote, price: 2 ** 53 }],
    ['a negative trade number', { ...quote, seq: -1 }],
    ['a missing field', { ...quote, time: undefined }],
    ['null', null],
  ])('rejects %s, as the schema does', (_case, value) => {
    expect(() => decodePriceQuote(Buffer.from(JSON.stringify(value)))).toThrow();
    expect(priceQuoteSchema.safeParse(value).success).toBe(false);
  });

  it('rejects a value that is not JSON', () => {
    expect(() => decodePriceQuote(Buffer.from('not json'))).toThrow();
    expect(() => decodePriceQuote(null)).toThrow();
  });
});
