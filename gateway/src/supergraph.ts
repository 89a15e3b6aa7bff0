import { readFileSync } from 'node:fs';
import { Supergraph as FederationSupergraph } from '@apollo/federation-internals';

export interface Supergraph {
  sdl: string;
  /** Subgraph name -> URL, as composed. */
  subgraphs: Map<string, string>;
}

/**
 * Reads and validates the composed supergraph. Fails fast, with a message that says what to do,
 * when it is missing or is not a valid supergraph.
 */
export function loadSupergraph(path: string, urlOverrides: Record<string, string> = {}): Supergraph {
  let sdl: string;
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- the operator's supergraph path setting, read at start
    sdl = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `Cannot read the supergraph at ${path} (${(error as Error).message}); run \`npm run compose\`.`,
    );
  }
  let subgraphs: Map<string, string>;
  try {
    const metadata = FederationSupergraph.build(sdl, { validateSupergraph: true }).subgraphsMetadata();
    subgraphs = new Map(metadata.map(({ name, url }) => [name, url]));
  } catch (error) {
    throw new Error(`${path} is not a valid supergraph: ${(error as Error).message}`);
  }
  for (const name of Object.keys(urlOverrides)) {
    if (!subgraphs.has(name)) {
      throw new Error(
        `SUBGRAPH_${name.toUpperCase()}_URL names no subgraph of the supergraph (${[...subgraphs.keys()].join(', ')})`,
      );
    }
  }
  return { sdl, subgraphs };
}
