import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A front opened by `startTcpFronts`: where it listens, and the network faults it can play. */
export interface TcpFront {
  address: string;
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
}

/**
 * Round-robin TCP fronts (scripts/tcp-front.ts) for several services at once, run in a child process
 * so that they forward at full speed however busy the test process is.
 */
export async function startTcpFronts<N extends string>(
  spec: Record<N, string[]>,
): Promise<{ fronts: Record<N, TcpFront>; close(): Promise<void> }> {
  const child: ChildProcess = fork(path.join(__dirname, 'tcp-front-process.ts'), [JSON.stringify(spec)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ports = await new Promise<Record<N, number>>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the TCP fronts exited (${code}) during start`)));
    child.once('message', (message: { ports: Record<N, number> }) => resolve(message.ports));
  });
  let nextId = 0;
  const ask = (message: { cut?: string; restore?: string }) =>
    new Promise<void>((resolve) => {
      const id = nextId++;
      const onMessage = (answer: { done?: number }) => {
        if (answer.done !== id) return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      child.send({ ...message, id });
    });
  const fronts = Object.fromEntries(
    (Object.entries(ports) as Array<[N, number]>).map(([name, port]) => [
      name,
      {
        address: `127.0.0.1:${port}`,
        port,
        cut: () => ask({ cut: name }),
        restore: () => ask({ restore: name }),
      },
    ]),
  ) as Record<N, TcpFront>;
  return {
    fronts,
    close: async () => {
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
