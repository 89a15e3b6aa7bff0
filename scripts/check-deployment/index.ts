import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseDockerfile } from '../dockerfile';
import { checkCompose } from './compose';
import { fail, notes, problems } from './findings';
import { checkKubernetes } from './kubernetes';
import { root } from './repository-files';

// `npm run check:deployment [-- --compose <file>] [--k8s <kustomization dir>]`
//
// Checks the deployment descriptions against the code, so that a renamed variable, a typo or a
// service missing from one of them fails in CI rather than at 3 a.m.:
// - every application service of docker-compose.yml and every platform container of the Kubernetes
//   manifests runs an entry point the Dockerfile's image contains (and `npm run build` produces),
//   through the image's entrypoint (tini), with the files it reads at run time in the image
//   (image-contents.ts, process-environment.ts);
// - every variable it sets is one its config schema (`<service>/src/config.ts`) reads, and every
//   variable whose default only works on a developer's machine (127.0.0.1) is set
//   (service-configs.ts);
// - the resulting environment passes the service's own `loadConfig`, as at start in production;
// - URLs that name another service use a port that service listens on; Prometheus scrapes every
//   service at its port (prometheus.ts); the compose broker is the development one
//   (kafka-broker.ts); Kubernetes probes, ports, grace periods and security settings fit the code
//   (kubernetes*.ts).
// Exits 1 listing every problem.

/** Stand-ins for external systems: run by docker-compose.yml, never deployed to Kubernetes. */
const STAND_INS = new Set(['workers/verification-api']);

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

/** Both describe the same system: every service of one runs in the other (stand-ins aside). */
function checkSameServices(
  composeFile: string,
  composeEntries: Map<string, string>,
  k8sDir: string,
  k8sEntries: Map<string, string>,
) {
  const deployed = new Set(k8sEntries.values());
  for (const [name, entry] of composeEntries) {
    const dir = /^(.+)\/dist\/index\.js$/.exec(entry)?.[1] ?? entry;
    if (!STAND_INS.has(dir) && !deployed.has(entry))
      fail(k8sDir, `runs no ${entry} (compose service ${name})`);
  }
  const composed = new Set(composeEntries.values());
  for (const [name, entry] of k8sEntries)
    if (!composed.has(entry)) fail(composeFile, `runs no ${entry} (Kubernetes workload ${name})`);
}

async function main() {
  const composeFile = argument('--compose', 'docker-compose.yml');
  const k8sDir = argument('--k8s', 'deploy/k8s');
  const image = parseDockerfile('Dockerfile');
  if (!image.entrypoint.includes('/usr/bin/tini')) fail('Dockerfile', 'the entrypoint should run tini');

  const composeEntries = await checkCompose(composeFile, image);
  const k8sEntries = existsSync(path.resolve(root, k8sDir))
    ? await checkKubernetes(k8sDir, image)
    : (notes.push(`${k8sDir}: not found; Kubernetes manifests not checked`), undefined);
  if (k8sEntries) checkSameServices(composeFile, composeEntries, k8sDir, k8sEntries);

  for (const note of notes) console.log(`note: ${note}`);
  if (problems.length > 0) {
    console.error(`Deployment check failed, ${problems.length} problem(s):`);
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  console.log(
    `Deployment check passed: ${composeFile} (${composeEntries.size} services)` +
      (k8sEntries ? `, ${k8sDir} (${k8sEntries.size} workloads)` : '') +
      ' agree with the Dockerfile and every service config.',
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
