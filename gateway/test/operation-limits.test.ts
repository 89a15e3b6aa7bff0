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

  it('measures depth under introspection fields like under any other', () => {
    // __type 1 > fields 2 > type 3 > ofType 4 > ofType 5 > name 6
    const deep = `{ __type(name: "Query") { fields { type { ofType { ofType { name } } } } } }`;
    expect(limitsHit(deep, { maxDepth: 6, maxAliases: 3, maxCost: 1e9 })).toEqual([]);
    expect(limitsHit(deep, { maxDepth: 5, maxAliases: 3, maxCost: 1e9 })).toEqual(['depth']);
    const schemaDeep = `{ __schema { types { fields { args { type { name } } } } } }`;
    expect(limitsHit(schemaDeep, { maxDepth: 5, maxAliases: 3, maxCost: 1e9 })).toEqual(['depth']);
  });

  it('counts aliases under introspection fields', () => {
    const aliases = Array.from({ length: 4 }, (_, i) => `n${i}: name`).join(' ');
    expect(limitsHit(`{ __type(name: "Query") { ${aliases} } }`)).toEqual(['aliases']);
    expect(limitsHit(`{ a: __typename b: __typename c: __typename d: __typename }`)).toEqual(['aliases']);
  });

  it('prices introspection lists like any list', () => {
    // __schema 1 + types 1 + fields 10 + name 10 x 10 = 112, and as much again for each alias.
    const once = (alias: string) => `${alias}: __schema { types { fields { name } } }`;
    expect(limitsHit(`{ ${once('a')} }`, { maxDepth: 9, maxAliases: 9, maxCost: 112 })).toEqual([]);
    expect(limitsHit(`{ ${once('a')} ${once('b')} }`, { maxDepth: 9, maxAliases: 9, maxCost: 223 })).toEqual([
      'cost',
    ]);
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
