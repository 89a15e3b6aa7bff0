import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnService, type ServiceProcess } from '../test/support/processes';

export const root = path.resolve(__dirname, '..');

/**
 * `npm run bench -- --quick` (or BENCH_QUICK=1): every scenario at a small size, to prove it runs
 * end to end; its figures mean nothing.
 */
export const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

/** Uses KAFKA_BROKERS, or the project's broker (started if needed, like the tests do). */
let startedKafka = false;

export async function ensureKafka(): Promise<string[]> {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS.split(',');
  const open = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: 9092 });
    socket.once('connect', () => resolve(true)).once('error', () => resolve(false));
  }).finally(() => undefined);
  if (!open) {
    execFileSync('bash', [path.join(root, 'scripts/kafka.sh'), 'start'], { stdio: 'inherit' });
    startedKafka = true;
  }
  return ['127.0.0.1:9092'];
}

let built = false;

/**
 * Starts a service as the image's ENTRYPOINT does: its bundle from `npm run build`, built once per
 * run so that the figures are those of the code checked out. Source run through tsx carries the
 * loader's own thread, compile caches and source maps, which the image has none of.
 */
export async function spawnBenchService(
  entry: string,
  env: Record<string, string>,
  options: {
    /** Another build of the service to run (a path from the repository's root), for an A/B. */
    bundle?: string;
    /** The port to listen on; a free one when not given. */
    port?: number;
  } = {},
): Promise<ServiceProcess> {
  if (!built) {
    execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/build.ts')], {
      stdio: 'ignore',
    });
    built = true;
  }
  return spawnService(entry, env, { built: true, ...options });
}

/** Stops the broker if this run started it (as the tests do), unless KEEP_KAFKA=1 keeps it for the next. */
function stopKafkaIfStarted(): void {
  if (!startedKafka || process.env.KEEP_KAFKA === '1') return;
  execFileSync('bash', [path.join(root, 'scripts/kafka.sh'), 'stop'], { stdio: 'inherit' });
  startedKafka = false;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
}

export interface Ratio {
  name: string;
  value: number;
  target?: string;
}

/** Every scenario reported in this process, for the summary `npm run bench` prints at the end. */
export const reported: Array<{ scenario: string; figures: Figure[]; ratios: Ratio[] }> = [];

export function formatFigure({ value, unit }: Figure): string {
  return `${formatNumber(value)}${unit ? ` ${unit}` : ''}`;
}

export function formatRatio({ value, target }: Ratio): string {
  return `**${value.toFixed(3)}x**${target ? ` (target ${target})` : ''}`;
}

/** Prints a scenario's figures as a table and writes them to bench/results/<scenario>.json. */
export function report(scenario: string, figures: Figure[], ratios: Ratio[]) {
  console.log(`\n## ${scenario}${quick ? ' (quick: small sizes, figures not meaningful)' : ''}\n`);
  console.log('| figure | value |');
  console.log('|---|---|');
  for (const figure of figures) console.log(`| ${figure.name} | ${formatFigure(figure)} |`);
  for (const ratio of ratios) console.log(`| **${ratio.name}** | ${formatRatio(ratio)} |`);
  reported.push({ scenario, figures, ratios });
  const dir = path.join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, `${scenario}${quick ? '.quick' : ''}.json`),
    JSON.stringify({ scenario, quick, at: new Date().toISOString(), figures, ratios }, null, 2),
  );
}

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

/** Samples this process's peak resident memory while `run` runs. */
export async function withPeakRss<T>(run: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const result = await run();
    return { result, peakRssMb: peak / 1024 / 1024 };
  } finally {
    clearInterval(timer);
  }
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The value below which `p` percent of `values` fall. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Runs one scenario as a script of its own (`npx tsx bench/<scenario>.ts`), exiting 0 or 1. */
/** Runs a benchmark's main function as the process: exit 0 or 1, the broker it started stopped. */
export function runStandalone(scenario: () => Promise<void>): void {
  scenario()
    .finally(stopKafkaIfStarted)
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
}
