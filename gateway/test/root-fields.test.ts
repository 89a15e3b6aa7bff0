import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { fragmentsOf, rootFieldCount } from '../src/security/root-fields';

const schema = buildSchema(`
  type Query { a: Int }
  type Mutation { create(n: Int): Int remove(n: Int): Int }
`);

function count(text: string, variables?: Record<string, unknown>): number {
  const document = parse(text);
  return rootFieldCount(
    schema,
    fragmentsOf(document),
    document.definitions[0] as OperationDefinitionNode,
    variables,
  );
}

describe('root fields an operation will run', () => {
  it('counts fields by response key, aliases apart and repeats once', () => {
    expect(count('mutation { a: create(n: 1) b: create(n: 2) create(n: 3) }')).toBe(3);
    expect(count('mutation { a: create(n: 1) a: create(n: 1) }')).toBe(1);
  });

  it('expands inline fragments and fragment spreads, nested', () => {
    expect(
      count(`mutation { ... on Mutation { a: create b: create } ...F }
        fragment F on Mutation { c: create ...G } fragment G on Mutation { d: remove e: remove }`),
    ).toBe(5);
  });

  it('leaves out what @skip and @include leave out, with variables and their defaults', () => {
    const text = `mutation ($skip: Boolean!, $include: Boolean = false) {
      a: create @skip(if: $skip)
      ... on Mutation @include(if: $include) { b: create c: create }
      ...F @skip(if: true)
    } fragment F on Mutation { d: create }`;
    expect(count(text, { skip: false })).toBe(1);
    expect(count(text, { skip: true, include: true })).toBe(2);
  });

  it('counts every field, conditions aside, when the variables do not coerce', () => {
    const text = `mutation ($skip: Boolean!) { a: create @skip(if: $skip) ... on Mutation { b: create } }`;
    expect(count(text, { skip: 'yes' })).toBe(2);
    expect(count(text, {})).toBe(2);
  });

  it('counts at least one, so an empty selection still costs a mutation', () => {
    expect(count('mutation { ... on Mutation @skip(if: true) { a: create } }')).toBe(1);
  });
});
