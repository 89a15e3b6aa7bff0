import { startTcpProxy, type TcpProxy } from '../../scripts/tcp-front';

// The TCP fronts of a test (test/support/tcp-fronts.ts) in a process of their own, so that the
// traffic of every service through them does not wait on the test process's own work. Started
// with the fronts to open as JSON (name -> upstream list); answers over IPC with their ports, then
// takes { cut: name } and { restore: name } messages.

const spec = JSON.parse(process.argv[2] ?? '{}') as Record<string, string[]>;
const fronts = new Map<string, TcpProxy>();

async function main() {
  for (const [name, upstreams] of Object.entries(spec)) fronts.set(name, await startTcpProxy(upstreams));
  process.send?.({ ports: Object.fromEntries([...fronts].map(([name, front]) => [name, front.port])) });
  process.on('message', (message: { cut?: string; restore?: string; id: number }) => {
    if (message.cut) fronts.get(message.cut)?.cut();
    if (message.restore) fronts.get(message.restore)?.restore();
    process.send?.({ done: message.id });
  });
  // The test went away: so do the fronts.
  process.on('disconnect', () => process.exit(0));
}

void main();
