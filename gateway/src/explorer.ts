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

// Signs in with the users service's signIn mutation and puts the access token into the headers
// editor, from where GraphiQL sends it with every query and as the WebSocket connectionParams.
const SIGN_IN =
  'mutation SignIn($input: SignInInput!) { signIn(input: $input) { accessToken accessTokenExpiresAt refreshToken user { id name } } }';
const SIGN_OUT = 'mutation SignOut($token: String!) { signOut(refreshToken: $token) }';

function page(base: string, graphqlPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Brokerage API explorer</title>
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <link rel="stylesheet" href="${base}/assets/graphiql.css" />
  <style>
    body { margin: 0; height: 100vh; display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
    #graphiql { flex: 1; min-height: 0; }
    #sign-in { display: flex; gap: 8px; align-items: center; padding: 6px 12px; border-bottom: 1px solid #ddd; font-size: 14px; }
    #sign-in input { padding: 3px 6px; }
    #sign-in-status { color: #555; }
    #sign-in-status.error { color: #b00020; }
  </style>
</head>
<body>
  <form id="sign-in">
    <strong>Sign in</strong>
    <input name="username" autocomplete="username" placeholder="username" aria-label="username" required />
    <input name="password" type="password" autocomplete="current-password" placeholder="password" aria-label="password" required />
    <button type="submit">Sign in</button>
    <button type="button" id="sign-out" hidden>Sign out</button>
    <span id="sign-in-status" role="status">Reading needs no sign-in; trading does.</span>
  </form>
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
    // What the headers editor holds, e.g. {"Authorization": "Bearer <token>"}; sent with queries and
    // as WebSocket connectionParams. Kept here so that signing in adds to what was typed.
    let headers = params.get('headers') ?? undefined;
    let refreshToken;
    const root = ReactDOM.createRoot(document.getElementById('graphiql'));
    function render() {
      root.render(
        React.createElement(GraphiQL, {
          fetcher,
          defaultQuery: ${JSON.stringify(DEFAULT_QUERY)},
          query: params.get('query') ?? undefined,
          variables: params.get('variables') ?? undefined,
          headers,
          onEditHeaders: (value) => { headers = value; },
          isHeadersEditorEnabled: true,
          defaultEditorToolsVisibility: true,
        }),
      );
    }
    render();

    const form = document.getElementById('sign-in');
    const status = document.getElementById('sign-in-status');
    const signOut = document.getElementById('sign-out');
    function say(text, error) {
      status.textContent = text;
      status.className = error ? 'error' : '';
    }
    function withAuthorization(value) {
      let current = {};
      try {
        const parsed = JSON.parse(headers || '{}');
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) current = parsed;
      } catch (error) {
        // Not JSON: replaced by the sign-in's headers.
      }
      for (const name of Object.keys(current)) if (name.toLowerCase() === 'authorization') delete current[name];
      if (value) current.Authorization = value;
      headers = JSON.stringify(current, null, 2);
      render();
    }
    async function call(query, variables) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return response.json();
    }
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const input = { username: form.username.value, password: form.password.value };
      say('Signing in...');
      try {
        const body = await call(${JSON.stringify(SIGN_IN)}, { input });
        const session = body.data && body.data.signIn;
        if (!session) {
          const error = (body.errors && body.errors[0]) || { message: 'Sign-in failed' };
          say(error.message + (error.extensions && error.extensions.code ? ' (' + error.extensions.code + ')' : ''), true);
          return;
        }
        form.password.value = '';
        refreshToken = session.refreshToken;
        withAuthorization('Bearer ' + session.accessToken);
        signOut.hidden = false;
        say('Signed in as ' + session.user.name + ' (user ' + session.user.id + ') until ' +
          new Date(session.accessTokenExpiresAt).toLocaleTimeString() + ': the token is in the Headers tab.');
      } catch (error) {
        say('Sign-in failed: ' + error.message, true);
      }
    });
    signOut.addEventListener('click', async () => {
      if (refreshToken) await call(${JSON.stringify(SIGN_OUT)}, { token: refreshToken }).catch(() => undefined);
      refreshToken = undefined;
      withAuthorization(undefined);
      signOut.hidden = true;
      say('Signed out.');
    });
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
    const name = pathname.slice(base.length + 8);
    // Own names only: `assets` is a plain object, and a path such as assets/constructor must not
    // reach what it inherits.
    const asset =
      pathname.startsWith(`${base}/assets/`) && Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (!asset) return false;
    let body = cache.get(asset.file);
    if (!body) {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- asset.file is one of the explorer's own files, chosen by a fixed table
      body = readFileSync(asset.file);
      cache.set(asset.file, body);
    }
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
    res.end(body);
    return true;
  };
}
