import net from 'node:net';

/**
 * A TCP front for one or more replicas, standing in for what production puts there (a Kubernetes
 * Service, a load balancer, a PgBouncer): each new connection goes to the next replica in turn,
 * and to the one after when a replica refuses it. `cut()` makes the dependency unreachable the way
 * a network partition does (open connections are reset, new ones refused) until `restore()`.
 */
export interface TcpProxy {
  /** host:port to connect to. */
  address: string;
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

interface Upstream {
  host: string;
  port: number;
}

function parse(address: string): Upstream {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
}

/** Listens on `port` (a free one when 0) of 127.0.0.1. */
export async function startTcpProxy(upstreams: string[], port = 0): Promise<TcpProxy> {
  const targets = upstreams.map(parse);
  const open = new Set<net.Socket>();
  let next = 0;
  let isCut = false;

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    const start = next++ % targets.length;
    const connectTo = (attempt: number) => {
      if (attempt >= targets.length || isCut || client.destroyed) {
        client.destroy();
        return;
      }
      const target = targets[(start + attempt) % targets.length]!;
      const upstream = net.connect(target);
      open.add(upstream);
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => {
          open.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      upstream.once('error', () => {
        open.delete(upstream);
        connectTo(attempt + 1);
      });
    };
    connectTo(0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: listening } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${listening}`,
    port: listening,
    cut() {
      isCut = true;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    restore() {
      isCut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
