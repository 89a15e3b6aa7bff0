import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { operationLimitRules } from '../src/security/operation-limits';

const schema = buildSchema(`
  type User { id: ID! name: String! listings(pageSize: Int): [Listing!]! }
  type Listing { id: ID! price: Int! user: User! }
  type Query { users(pageSize: Int): [User!]! user(id: ID!): User }
`);

function limitsHit(query: string, limits = { maxDepth: 5, maxAliases: 3, maxCost: 100 }) {
  return validate(schema, parse(query), [...specifiedRules, ...operationLimitRules(limits)]).map(
    (error) => error.extensions.limit,
  );
}

describe('operation limits', () => {
  it('passes an operation within every limit', () => {
    expect(limitsHit('{ users(pageSize: 2) { id name listings(pageSize: 2) { id } } }')).toEqual([]);
  });

  it('measures depth through fragments and inline fragments', () => {
    const deep = `{ user(id: "1") { ...L } } fragment L on User { listings { ... on Listing { user { listings { id } } } } }`;
    // user 1 > listings 2 > user 3 > listings 4 > id 5
    expect(limitsHit(deep, { maxDepth: 5, maxAliases: 3, maxCost: 1_000 })).toEqual([]);
    expect(limitsHit(deep, { maxDepth: 4, maxAliases: 3, maxCost: 1_000 })).toEqual(['depth']);
  });

  it('counts aliases in every use of a fragment', () => {
    expect(
      limitsHit(`{ users { ...A } user(id: "1") { ...A } } fragment A on User { a: id b: name }`),
    ).toEqual(['aliases']);
  });

  it('multiplies by page sizes, assumes 10 for a list without one and the largest page for a variable', () => {
    // 1 + 5 x 2 = 11
    expect(
      limitsHit('{ users(pageSize: 5) { id name } }', { maxDepth: 9, maxAliases: 9, maxCost: 11 }),
    ).toEqual([]);
    // 1 + 10 x 2 = 21
    expect(limitsHit('{ users { id name } }', { maxDepth: 9, maxAliases: 9, maxCost: 20 })).toEqual(['cost']);
    // 1 + 100 x 1 = 101
    expect(limitsHit('query ($n: Int) { users(pageSize: $n) { id } }')).toEqual(['cost']);
  });

  it('does not loop on a fragment cycle, which graphql reports itself', () => {
    const errors = validate(
      schema,
      parse(`{ users { ...A } } fragment A on User { listings { user { ...A } } }`),
      [...specifiedRules, ...operationLimitRules({ maxDepth: 50, maxAliases: 50, maxCost: 1e9 })],
    );
    expect(errors.map((error) => error.message).join()).toMatch(/Cannot spread fragment "A" within itself/);
  });
});
