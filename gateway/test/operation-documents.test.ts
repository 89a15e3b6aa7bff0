import { buildSchema, GraphQLError, type ValidationRule } from 'graphql';
import { OperationDocuments } from '../src/subscriptions/operation-documents';

const sdl = 'type Query { order(id: ID!): Order } type Order { id: ID! status: String }';
const schema = buildSchema(sdl);

/** Counts how often documents are validated, and refuses any operation named `Refused`. */
function countingRule() {
  const counter = { validations: 0 };
  const rule: ValidationRule = (context) => {
    counter.validations += 1;
    return {
      OperationDefinition(node) {
        if (node.name?.value === 'Refused')
          context.reportError(
            new GraphQLError('refused by a limit', {
              nodes: [node],
              extensions: { code: 'LIMIT', limit: 1 },
            }),
          );
      },
    };
  };
  return { counter, rule };
}

describe('operation documents', () => {
  it('parses and validates an operation text once, however many subscriptions send it', () => {
    const { counter, rule } = countingRule();
    const documents = new OperationDocuments({ maxTokens: 1_000, rules: [rule] });
    const query = 'query ($id: ID!) { order(id: $id) { id status } }';
    const first = documents.prepare(schema, query);
    expect('kind' in first).toBe(true);
    for (let i = 0; i < 10; i += 1) expect(documents.prepare(schema, query)).toBe(first);
    expect(counter.validations).toBe(1);
  });

  it('validates again against a new schema (a new supergraph)', () => {
    const { counter, rule } = countingRule();
    const documents = new OperationDocuments({ maxTokens: 1_000, rules: [rule] });
    const query = '{ order(id: "1") { status } }';
    documents.prepare(schema, query);
    // The same text, now asking for a field the new schema no longer has.
    const without = buildSchema('type Query { order(id: ID!): Order } type Order { id: ID! }');
    const errors = documents.prepare(without, query) as GraphQLError[];
    expect(counter.validations).toBe(2);
    expect(errors.map(({ message }) => message)).toEqual([expect.stringMatching(/"status"/)]);
  });

  it('refuses with the codes the HTTP path gives: parse failed, validation failed', () => {
    const { rule } = countingRule();
    const documents = new OperationDocuments({ maxTokens: 20, rules: [rule] });
    const codes = (query: string) => {
      const answer = documents.prepare(schema, query);
      return 'kind' in answer ? [] : answer.map((error) => error.extensions.code);
    };
    expect(codes('{ order(id: "1") { id ')).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes(`{ order(id: "1") { ${'id '.repeat(30)}} }`)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes('{ order(id: "1") { price } }')).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    // A limit's own details stay; its code becomes the one clients already handle.
    const [refused] = documents.prepare(schema, 'query Refused { order(id: "1") { id } }') as GraphQLError[];
    expect(refused!.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 1 });
  });

  it('keeps the most recently used texts up to its capacity', () => {
    const { counter, rule } = countingRule();
    const documents = new OperationDocuments({ maxTokens: 1_000, rules: [rule], capacity: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((alias) => `{ ${alias}: order(id: "1") { id } }`);
    documents.prepare(schema, a!);
    documents.prepare(schema, b!);
    documents.prepare(schema, a!); // a is now the most recent: b goes first
    documents.prepare(schema, c!);
    expect(counter.validations).toBe(3);
    documents.prepare(schema, a!);
    expect(counter.validations).toBe(3);
    documents.prepare(schema, b!);
    expect(counter.validations).toBe(4);
  });
});
