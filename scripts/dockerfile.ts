import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

export interface Image {
  stages: Map<string, string[]>;
  /** Paths (relative to the WORKDIR /app) the final stage copies in: files or directories. */
  paths: Set<string>;
  /** `ENV` of the final stage: every container starts with it. */
  env: Record<string, string>;
  /** The final stage's CMD: what runs when nothing else is given. */
  cmd: string[];
  entrypoint: string[];
}

/** The final stage of a Dockerfile (relative to the repository root), as far as the checks need it. */
export function parseDockerfile(file = 'Dockerfile'): Image {
  const dockerfile = readFileSync(path.resolve(root, file), 'utf8');
  const instructions = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = [];
      stages.set(from[1] ?? `stage${stages.size}`, current);
    }
    current.push(line);
  }
  const image: Image = { stages, paths: new Set(), env: {}, cmd: [], entrypoint: [] };
  for (const line of current) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const words = rest.filter((word) => !word.startsWith('--'));
    switch (instruction.toUpperCase()) {
      case 'COPY': {
        const destination = words.at(-1)!;
        for (const source of words.slice(0, -1)) {
          const target = destination.endsWith('/')
            ? path.posix.join(destination, path.posix.basename(source))
            : destination;
          image.paths.add(path.posix.normalize(target.replace(/^\/app\//, '').replace(/^\.\//, '')));
        }
        break;
      }
      case 'ENV':
        for (const pair of rest) {
          const [name, ...value] = pair.split('=');
          if (name && value.length > 0) image.env[name] = value.join('=');
        }
        break;
      case 'CMD':
      case 'ENTRYPOINT': {
        const exec = JSON.parse(rest.join(' ')) as string[];
        if (instruction.toUpperCase() === 'CMD') image.cmd = exec;
        else image.entrypoint = exec;
        break;
      }
    }
  }
  return image;
}

/**
 * The flags the image gives `node` for every service: what follows `node` in the final stage's
 * exec-form ENTRYPOINT, read from there so that local runs, tests and benchmarks cannot drift from
 * production. They are V8 start-up settings that change how a service behaves under load
 * (docs/deployment.md), which `NODE_OPTIONS` does not accept.
 */
export function imageNodeFlags(): string[] {
  const { entrypoint } = parseDockerfile();
  const node = entrypoint.indexOf('node');
  if (node < 0) throw new Error('the Dockerfile has no exec-form ENTRYPOINT that runs node');
  return entrypoint.slice(node + 1);
}

/**
 * The Node.js major version of every `FROM node:<major>-…` stage. The project pins the same major
 * as a dev dependency (package.json `node`), so the tests, benchmarks and `npm run dev` run on
 * the release the image ships.
 */
export function imageNodeMajors(): number[] {
  const majors = new Set<number>();
  for (const [, lines] of parseDockerfile().stages) {
    const image = /^FROM\s+node:(\d+)/i.exec(lines[0] ?? '');
    if (image) majors.add(Number(image[1]));
  }
  return [...majors];
}
