import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import { buildOperationContext } from '@apollo/gateway';
import { operationForExecution } from '@apollo/gateway/dist/executeQueryPlan';
import { parse } from 'graphql';

// patches/@apollo+gateway+2.14.4.patch: executeQueryPlan builds the operation it shapes results
// with once per parsed operation (Apollo Server keeps one parsed document per query text), not
// on every request. Without the patch the helper does not exist and this suite fails.
describe('@apollo/gateway as patched: the operation for result shaping, built once per document', () => {
  const sdl = readFileSync(path.join(__dirname, '../../schema/supergraph.graphql'), 'utf8');
  const supergraph = Supergraph.build(sdl);
  const apiSchema = supergraph.apiSchema();
  const contextOf = (query: string) =>
    buildOperationContext({ schema: apiSchema.toGraphQLJSSchema(), operationDocument: parse(query) });
  const query =
    'query Portfolio($id: ID!) { user(id: $id) { name ...Holdings } } fragment Holdings on User { holdings { quantity } }';

  it('hands back the same operation for the same parsed document and schema', () => {
    const context = contextOf(query);
    const first = operationForExecution(apiSchema, context);
    expect(operationForExecution(apiSchema, context)).toBe(first);
    expect(first.toString()).toContain('holdings');
  });

  it('builds anew for another parse of the same text, another schema or other fragments', () => {
    const context = contextOf(query);
    const first = operationForExecution(apiSchema, context);
    expect(operationForExecution(apiSchema, contextOf(query))).not.toBe(first);
    expect(operationForExecution(Supergraph.build(sdl).apiSchema(), context)).not.toBe(first);
    const otherFragments = { ...context, fragments: {} };
    expect(() => operationForExecution(apiSchema, otherFragments)).toThrow(/Holdings/);
  });
});
