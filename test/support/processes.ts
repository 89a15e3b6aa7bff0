import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { imageNodeFlags } from '../../scripts/dockerfile';

const root = path.resolve(__dirname, '../..');

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A port for each name, all different, that were free a moment ago (each held until all are chosen). */
export async function distinctFreePorts<Name extends string>(
  names: readonly Name[],
): Promise<Record<Name, number>> {
  const servers = await Promise.all(
    names.map(
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return Object.fromEntries(names.map((name, i) => [name, ports[i]!])) as Record<Name, number>;
}

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  output: string[];
  /** Resolves when `/ready` answers 200. */
  ready(timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  /** The port to listen on; a free one when not given. */
  port?: number;
  /**
   * Runs the service's production bundle (`npm run build`: `<service>/dist/index.js`) the way the
   * image does, rather than its source through tsx: what benchmarks measure.
   */
  built?: boolean;
  /** With `built`: another bundle of the same service to run instead (an A/B of two builds). */
  bundle?: string;
}

/**
 * For investigations: SERVICE_NODE_FLAGS adds node flags to every service started here (after the
 * image's, e.g. `--trace-gc`), and SERVICE_LOG_DIR keeps each one's output in
 * `<dir>/<service>-<pid>.log`, whose first line is the spawn time (Unix ms) to line events up by.
 */
const investigation = {
  flags: process.env.SERVICE_NODE_FLAGS?.split(' ').filter(Boolean) ?? [],
  logDir: process.env.SERVICE_LOG_DIR,
};

/** The command line that runs a service from its entry point (`<service>/src/index.ts`). */
function commandLine(
  entry: string,
  built: boolean,
  bundle = entry.replace(/\/src\/index\.ts$/, '/dist/index.js'),
): string[] {
  const flags = [...imageNodeFlags(), ...investigation.flags];
  if (!built) return [...flags, '--import', 'tsx', path.join(root, entry)];
  if (bundle === entry) throw new Error(`${entry} is not a service entry point (<service>/src/index.ts)`);
  // As the image's ENTRYPOINT runs it.
  return [...flags, path.join(root, bundle)];
}

/** Runs a service's entry point as a real process, as `npm run dev` and production do. */
export async function spawnService(
  entry: string,
  env: Record<string, string>,
  { port, built = false, bundle }: SpawnOptions = {},
): Promise<ServiceProcess> {
  port ??= await freePort();
  const child = spawn(process.execPath, commandLine(entry, built, bundle), {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  if (investigation.logDir) {
    const service = path.basename(entry.replace(/\/src\/index\.ts$/, ''));
    const log = createWriteStream(path.join(investigation.logDir, `${service}-${child.pid}.log`));
    log.write(`spawned at ${Date.now()}\n`);
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.once('close', () => log.end());
  }
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  let stopRequested = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      // A service that dies on its own shows up later as refused connections in some other step;
      // its last words, printed now, say why.
      if (!stopRequested)
        process.stderr.write(
          `${entry} (pid ${child.pid}) exited on its own (${signal ?? `code ${code}`}); its last output:\n` +
            `${output.join('').slice(-8_000)}\n`,
        );
      resolve(code);
    }),
  );
  return {
    child,
    port,
    output,
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null)
          throw new Error(`${entry} exited with ${child.exitCode}:\n${output.join('')}`);
        try {
          if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline)
          throw new Error(`${entry} not ready after ${timeoutMs} ms:\n${output.join('')}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async kill(signal) {
      stopRequested = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
