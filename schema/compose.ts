import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { subgraphs } from './subgraphs';

// Composes schema/supergraph.graphql from every subgraph's schema.graphql.
//   npm run compose           write the supergraph
//   npm run compose -- --check fail when composition fails or the committed supergraph is stale

const root = path.resolve(__dirname, '..');
const supergraphPath = path.join(__dirname, 'supergraph.graphql');

export function composeSupergraph(): string {
  const result = composeServices(
    subgraphs.map(({ name, schemaPath, url }) => ({
      name,
      url,
      typeDefs: parse(readFileSync(path.join(root, schemaPath), 'utf8')),
    })),
  );
  if (result.errors) {
    throw new Error(
      `Composition failed:\n${result.errors.map((error) => `  - ${error.message}`).join('\n')}`,
    );
  }
  for (const hint of result.hints) console.warn(`hint: ${hint.toString()}`);
  return `${result.supergraphSdl.trimEnd()}\n`;
}

function main() {
  const supergraph = composeSupergraph();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(supergraphPath, 'utf8');
    } catch {
      // Missing counts as stale.
    }
    if (committed !== supergraph) {
      console.error('schema/supergraph.graphql is stale: run `npm run compose` and commit the result.');
      process.exit(1);
    }
    console.log('schema/supergraph.graphql is up to date.');
    return;
  }
  writeFileSync(supergraphPath, supergraph);
  console.log(`Wrote ${path.relative(root, supergraphPath)} from ${subgraphs.length} subgraphs.`);
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
