import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { operationLimitRules } from '../src/security/operation-limits';

const schema = buildSchema(`
  type User { id: ID! name: String! listings(pageSize: Int): [Listing!]! }
  type Listing { id: ID! price: Int! user: User! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type UserEdge { cursor: String! node: User! }
  type UserConnection { edges: [UserEdge!]! pageInfo: PageInfo! }
  type Query {
    users(pageSize: Int): [User!]!
    user(id: ID!): User
    usersConnection(first: Int, after: String, last: Int, before: String): UserConnection!
  }
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

  it('prices a connection by first or last: its edges hold that many, 10 without either', () => {
    const limits = (maxCost: number) => ({ maxDepth: 9, maxAliases: 9, maxCost });
    // usersConnection 1 + edges 1 + (node + id + name) x 5 = 17
    const five = '{ usersConnection(first: 5) { edges { node { id name } } } }';
    expect(limitsHit(five, limits(17))).toEqual([]);
    expect(limitsHit(five, limits(16))).toEqual(['cost']);
    expect(limitsHit('{ usersConnection(last: 5) { edges { node { id name } } } }', limits(16))).toEqual([
      'cost',
    ]);
    // 1 + 1 + 3 x 10 = 32
    expect(limitsHit('{ usersConnection { edges { node { id name } } } }', limits(32))).toEqual([]);
    expect(limitsHit('{ usersConnection { edges { node { id name } } } }', limits(31))).toEqual(['cost']);
    // A variable size is priced at the largest page: 1 + 1 + 100 + 100 = 202.
    expect(
      limitsHit('query ($n: Int) { usersConnection(first: $n) { edges { node { id } } } }', limits(201)),
    ).toEqual(['cost']);
    // pageInfo is one object, however large the page: 1 + 1 + 1 = 3.
    expect(limitsHit('{ usersConnection(first: 100) { pageInfo { hasNextPage } } }', limits(3))).toEqual([]);
  });

  it('prices a fragment on a connection by the size of each connection it is spread in', () => {
    const limits = (maxCost: number) => ({ maxDepth: 9, maxAliases: 9, maxCost });
    // a: 1 + 1 + 5 x 3 = 17; b: 1 + 1 + 50 x 3 = 152
    const query = `{ a: usersConnection(first: 5) { ...C } b: usersConnection(first: 50) { ...C } }
      fragment C on UserConnection { edges { node { id name } } }`;
    expect(limitsHit(query, limits(169))).toEqual([]);
    expect(limitsHit(query, limits(168))).toEqual(['cost']);
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
