import { readdirSync, readFileSync } from 'node:fs';

/** Which part of the system a process is, from its command line; undefined for the rest. */
const PARTS: Array<[part: string, pattern: RegExp]> = [
  ['gateway', /gateway\/dist\/index\.js/],
  ['orders', /subgraphs\/orders\/dist\/index\.js/],
  ['users', /subgraphs\/users\/dist\/index\.js/],
  ['stocks', /subgraphs\/stocks\/dist\/index\.js/],
  ['listings', /subgraphs\/listings\/dist\/index\.js/],
  ['Hive Gateway', /@graphql-hive\/gateway\/dist\/bin\.js/],
  ['verifier', /workers\/verifier\/dist\/index\.js/],
  ['verification API stand-in', /workers\/verification-api\/dist\/index\.js/],
  ['PostgreSQL', /^postgres/],
  ['Kafka', /kafka\.Kafka/],
  ['Redis', /redis-server/],
];

const TICKS_PER_SECOND = 100;

/** CPU seconds used so far by each part's processes (user + system, from /proc), and by this one. */
export function cpuByPart(): Map<string, number> {
  const used = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    let stat: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const part =
      Number(entry) === process.pid
        ? 'benchmark client'
        : PARTS.find(([, pattern]) => pattern.test(cmdline))?.[0];
    if (!part) continue;
    // Fields after the command name (which may hold spaces) start at ") ": utime, stime, cutime and
    // cstime are 14 to 17. The children's share keeps the CPU of PostgreSQL backends that exited
    // (a pool closing idle connections) with the postmaster that waited for them.
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    const seconds = ticks / TICKS_PER_SECOND;
    used.set(part, (used.get(part) ?? 0) + seconds);
  }
  return used;
}

/** What each part used between two readings, in CPU milliseconds per unit of work. */
export function cpuPerUnit(before: Map<string, number>, after: Map<string, number>, units: number) {
  return [...after]
    .map(([part, seconds]) => ({ part, ms: ((seconds - (before.get(part) ?? 0)) * 1_000) / units }))
    .filter(({ ms }) => ms > 0)
    .sort((a, b) => b.ms - a.ms);
}
