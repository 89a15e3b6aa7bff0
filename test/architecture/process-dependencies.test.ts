import { build } from 'esbuild';
import { bundleOptions, entryPoints } from '../../scripts/build';

// Each process loads only the shared packages it uses: a service without Kafka must not carry
// kafkajs (its client code, its patched request queue) into its bundle. The test reads what each
// production bundle imports from node_modules, as `npm run build` makes it.

/** The packages a service's bundle loads at run time (everything but @brokerage/*, which is bundled in). */
async function runtimePackages(service: string): Promise<Set<string>> {
  const result = await build({
    ...bundleOptions(`${service}/src/index.ts`, `${service}/dist/index.js`),
    write: false,
    metafile: true,
    sourcemap: false,
  });
  const packages = new Set<string>();
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || imported.path.startsWith('node:')) continue;
      const parts = imported.path.split('/');
      packages.add(imported.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return packages;
}

describe('what each process loads', () => {
  it.each(['gateway', 'subgraphs/users', 'subgraphs/listings'])(
    '%s loads no Kafka client',
    async (service) => {
      expect(entryPoints).toContain(service);
      const packages = await runtimePackages(service);
      expect(packages).toContain('graphql');
      expect(packages).not.toContain('kafkajs');
    },
  );

  it.each(['gateway', 'workers/price-ingestor', 'workers/verifier'])(
    '%s loads no PostgreSQL client or ORM',
    async (service) => {
      const packages = await runtimePackages(service);
      expect(packages).not.toContain('typeorm');
      expect(packages).not.toContain('pg');
    },
  );

  it('the services that use Kafka load it', async () => {
    // Shows that the reading sees a Kafka client where there is one.
    for (const service of ['subgraphs/orders', 'workers/verifier']) {
      expect(await runtimePackages(service)).toContain('kafkajs');
    }
  });
});
