import { GraphQLError } from 'graphql';
import { isRowId, parsePage, parseRowId } from '@brokerage/service';

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error instanceof GraphQLError ? error.extensions.code : error;
  }
  return undefined;
}

describe('parsePage', () => {
  it('turns page 3 of 10 into offset 20', () => {
    expect(parsePage(3, 10)).toEqual({ offset: 20, limit: 10 });
  });

  it.each([
    [0, 10],
    [-1, 10],
    [1, 0],
    [1, 101],
    [1.5, 10],
  ])('rejects pageNum %p with pageSize %p as BAD_USER_INPUT', (pageNum, pageSize) => {
    expect(codeOf(() => parsePage(pageNum, pageSize))).toBe('BAD_USER_INPUT');
  });
});

describe('row ids', () => {
  it('accepts ids beyond 2^53 and keeps them as strings', () => {
    expect(parseRowId('44891482026867833', 'id')).toBe('44891482026867833');
    expect(isRowId('9223372036854775807')).toBe(true);
  });

  it.each(['', '0', '01', '-1', '1.5', 'abc', '9223372036854775808', '1'.repeat(20), ' 1'])(
    'rejects %p',
    (value) => {
      expect(codeOf(() => parseRowId(value, 'id'))).toBe('BAD_USER_INPUT');
    },
  );
});
