import { build, type BuildOptions, type Plugin } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

// `npm run build`: one bundle per service at <service>/dist/index.js, for production images, and
// scripts/dist/migrate.js (`npm run migrate` without tsx), for the migration job of a deployment.
// The platform's own packages (@brokerage/*: the shared packages under common/ and the owners'
// contracts) are bundled in; every other package stays a runtime dependency resolved from
// node_modules. Each bundle sits one level below its package root, like
// src/, so that paths such as `../schema.graphql` resolve the same in both.

const root = path.resolve(__dirname, '..');

/** Every service: the gateway, each subgraph and each worker (a folder with src/index.ts). */
export const entryPoints = [
  'gateway',
  ...['subgraphs', 'workers'].flatMap((group) =>
    readdirSync(path.join(root, group)).map((name) => `${group}/${name}`),
  ),
].filter((service) => existsSync(path.join(root, service, 'src/index.ts')));

const externalPackages: Plugin = {
  name: 'external-packages',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@brokerage/') ? undefined : { path: args.path, external: true },
    );
  },
};

/**
 * Further processes of a service's package: another entry point over the same domain code and
 * database (the notifications subgraph's notifier): source -> bundle.
 */
export const processBundles: Record<string, string> = {
  'subgraphs/notifications/src/notifier/index.ts': 'subgraphs/notifications/dist/notifier/index.js',
};

/** Scripts the production image runs besides the services: source -> bundle. */
const scriptBundles = { 'scripts/migrate.ts': 'scripts/dist/migrate.js' };

/** How a bundle is built: also what test/architecture reads a service's dependencies from. */
export function bundleOptions(source: string, outfile: string): BuildOptions {
  return {
    entryPoints: [path.join(root, source)],
    outfile: path.join(root, outfile),
    bundle: true,
    platform: 'node',
    target: 'node26',
    format: 'cjs',
    sourcemap: true,
    plugins: [externalPackages],
    logLevel: 'warning',
  };
}

function bundle(source: string, outfile: string) {
  return build(bundleOptions(source, outfile));
}

async function main() {
  await Promise.all([
    ...entryPoints.map((service) => bundle(`${service}/src/index.ts`, `${service}/dist/index.js`)),
    ...Object.entries(processBundles).map(([source, outfile]) => bundle(source, outfile)),
    ...Object.entries(scriptBundles).map(([source, outfile]) => bundle(source, outfile)),
  ]);
  console.log(
    `Built ${entryPoints.length} services: ${entryPoints.map((service) => `${service}/dist/index.js`).join(', ')}; ` +
      `other processes: ${Object.values(processBundles).join(', ')}; ` +
      `scripts: ${Object.values(scriptBundles).join(', ')}`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
