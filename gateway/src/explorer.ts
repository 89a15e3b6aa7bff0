import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

// An explorer that needs no internet: GraphiQL and React served from this package's own
// node_modules (Apollo Sandbox, the other explorer, loads from Apollo's CDN).

function packageFile(pkg: string, file: string): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
}

const assets: Record<string, { file: string; type: string }> = {
  'react.js': { file: packageFile('react', 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': {
    file: packageFile('react-dom', 'umd/react-dom.production.min.js'),
    type: 'text/javascript',
  },
  'graphiql.js': { file: packageFile('graphiql', 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { file: packageFile('graphiql', 'graphiql.min.css'), type: 'text/css' },
};

const DEFAULT_QUERY = `# The offline explorer of the brokerage platform's public API.
query ListingsWithOwners {
  listings(pageSize: 10) {
    id
    listingType
    price
    user {
      id
      name
    }
  }
}
`;

function page(base: string, graphqlPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Brokerage API explorer</title>
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <link rel="stylesheet" href="${base}/assets/graphiql.css" />
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading the explorer...</div>
  <script src="${base}/assets/react.js"></script>
  <script src="${base}/assets/react-dom.js"></script>
  <script src="${base}/assets/graphiql.js"></script>
  <script>
    const url = new URL(${JSON.stringify(graphqlPath)}, window.location.href);
    const subscriptionUrl = new URL(url);
    subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const fetcher = GraphiQL.createFetcher({ url: url.toString(), subscriptionUrl: subscriptionUrl.toString() });
    // ?query=...&variables=...&headers=... opens the explorer on a given operation (shareable links).
    const params = new URLSearchParams(window.location.search);
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultQuery: ${JSON.stringify(DEFAULT_QUERY)},
        query: params.get('query') ?? undefined,
        variables: params.get('variables') ?? undefined,
        // e.g. {"Authorization": "Bearer <token>"}; sent with queries and as WebSocket connectionParams.
        headers: params.get('headers') ?? undefined,
        isHeadersEditorEnabled: true,
        defaultEditorToolsVisibility: true,
      }),
    );
  </script>
</body>
</html>`;
}

/** Serves the explorer page at `base` and its assets below it; returns false for other paths. */
export function createExplorerRoutes(base: string, graphqlPath: string) {
  const html = page(base, graphqlPath);
  const cache = new Map<string, Buffer>();
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const pathname = (req.url ?? '/').split('?')[0]!;
    if (pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return true;
    }
    if (pathname === base || pathname === `${base}/`) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(html);
      return true;
    }
    const asset = pathname.startsWith(`${base}/assets/`)
      ? assets[pathname.slice(base.length + 8)]
      : undefined;
    if (!asset) return false;
    let body = cache.get(asset.file);
    if (!body) {
      body = readFileSync(asset.file);
      cache.set(asset.file, body);
    }
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
    res.end(body);
    return true;
  };
}
