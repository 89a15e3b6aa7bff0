import { readFileSync } from 'node:fs';

// `npx tsx bench/federated-mix-profile.ts <file.cpuprofile> [from-ms to-ms]`: where a service's
// CPU went, from a V8 CPU profile (`SERVICE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=<dir>"` while
// bench/federated-mix.ts runs), as shares of the samples that were not idle. Each sample is put
// in the first category its stack meets, from the leaf up (so JSON.parse called by the gateway's
// HTTP client counts as JSON); Node's own and native frames count for the package that called
// them (a socket write of undici's is subgraph HTTP). The window, in ms
// since the profile started, keeps the load and leaves start-up and seeding out.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Categories in the order a frame is tested against them: the first that matches names it. */
const CATEGORIES: Array<[name: string, test: (fn: string, url: string) => boolean]> = [
  ['garbage collection', (fn) => fn === '(garbage collector)'],
  ['JSON parse / stringify', (fn, url) => url === '' && /^(parse|stringify)$/.test(fn)],
  [
    'query planning',
    (_fn, url) => url.includes('@apollo/query-planner') || url.includes('@apollo/federation-internals'),
  ],
  ['parse / validate', (_fn, url) => /graphql\/(language|validation)\//.test(url)],
  [
    'cost and limits (our validation rules and plugins)',
    (fn) => /operationCost|rootFieldCount|fragmentsOf|LimitRule|maxDepth|maxAliases/i.test(fn),
  ],
  ['Redis (read budget, rate limit)', (_fn, url) => url.includes('ioredis') || url.includes('redis-parser')],
  ['subgraph HTTP client (undici)', (_fn, url) => url.includes('/undici/')],
  [
    'result shaping and execution (@apollo/gateway, graphql execution)',
    (_fn, url) =>
      url.includes('@apollo/gateway') ||
      url.includes('graphql/execution') ||
      url.includes('graphql/utilities'),
  ],
  [
    'Apollo Server (request pipeline, plugins)',
    (_fn, url) => url.includes('@apollo/server') || url.includes('@apollo/utils'),
  ],
  ['JWT / caller tokens (jose)', (_fn, url) => url.includes('/jose/')],
  ['tracing (OpenTelemetry)', (_fn, url) => url.includes('@opentelemetry')],
  ['metrics (prom-client)', (_fn, url) => url.includes('prom-client')],
  ['logging (pino)', (_fn, url) => url.includes('pino')],
  ['our code (dist bundle)', (_fn, url) => url.includes('/dist/index.js')],
];

/** Node's own and native frames: counted for the package frame that called them, if any. */
const transparent = (url: string) => url === '' || url.startsWith('node:');

const detail = process.env.PROFILE_DETAIL;

function main() {
  const [file, from, to] = process.argv.slice(2);
  const profile = JSON.parse(readFileSync(file!, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = categoryOf.get(id);
    if (known) return known;
    // Node's and native frames with no package frame above them: the HTTP server and sockets
    // (reading requests, writing answers, timers).
    let category = 'Node: HTTP server, sockets, event loop';
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url } = byId.get(at)!.callFrame;
      if (functionName === '(idle)' || functionName === '(program)') {
        category = functionName;
        break;
      }
      const found = CATEGORIES.find(([, test]) => test(functionName, url));
      if (found) {
        category = found[0];
        // PROFILE_DETAIL=<category prefix>: that category split by the frame that named it.
        if (detail && category.startsWith(detail)) category = `${category}: ${functionName}`;
        break;
      }
      if (!transparent(url)) {
        category = `other (${url
          .replace(/^.*node_modules\//, '')
          .split('/')
          .slice(0, 2)
          .join('/')})`;
        break;
      }
    }
    categoryOf.set(id, category);
    return category;
  };
  const totals = new Map<string, number>();
  const self = new Map<string, number>();
  let time = 0;
  for (const [i, sample] of profile.samples.entries()) {
    time += profile.timeDeltas[i]! / 1_000;
    if (from !== undefined && (time < Number(from) || time > Number(to))) continue;
    const category = classify(sample);
    totals.set(category, (totals.get(category) ?? 0) + profile.timeDeltas[i]! / 1_000);
    const { functionName, url } = byId.get(sample)!.callFrame;
    const frame = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '')}`;
    self.set(frame, (self.get(frame) ?? 0) + profile.timeDeltas[i]! / 1_000);
  }
  const busy = [...totals].filter(([name]) => name !== '(idle)').reduce((sum, [, ms]) => sum + ms, 0);
  console.log(`${file}: ${busy.toFixed(0)} ms busy (idle ${(totals.get('(idle)') ?? 0).toFixed(0)} ms)`);
  for (const [name, ms] of [...totals].filter(([n]) => n !== '(idle)').sort((a, b) => b[1] - a[1])) {
    console.log(`${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${name}`);
  }
  console.log('\nself time, top 30:');
  const top = [...self].filter(([frame]) => !frame.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
  for (const [frame, ms] of top.slice(0, 30)) {
    console.log(`${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${frame}`);
  }
}

main();
