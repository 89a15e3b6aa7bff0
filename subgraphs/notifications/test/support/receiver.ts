import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  body: string;
  headers: http.IncomingHttpHeaders;
  receivedAt: number;
}

/** What the receiver answers the n-th request (from 0): a status, or `hang` (no answer, ever). */
export type Answer = number | 'hang';

/**
 * A real webhook receiver on loopback, as a customer would run one: records every request and
 * answers as `answer` says at the time. Counts the requests open at once (answered or given up
 * by the sender), to see how many the notifier makes to it concurrently.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  open = 0;
  maxOpen = 0;
  private readonly server: http.Server;
  private readonly hanging = new Set<http.ServerResponse>();

  /** Where a 3xx answer points (its Location header). */
  redirectTo: string | undefined;

  constructor(public answer: (index: number, body: string) => Answer) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const index = this.received.length;
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ body, headers: req.headers, receivedAt: Date.now() });
        this.open += 1;
        this.maxOpen = Math.max(this.maxOpen, this.open);
        res.once('close', () => {
          this.open -= 1;
          this.hanging.delete(res);
        });
        const answer = this.answer(index, body);
        if (answer === 'hang') {
          this.hanging.add(res);
          return;
        }
        const location =
          answer >= 300 && answer < 400 && this.redirectTo ? { location: this.redirectTo } : {};
        res
          .writeHead(answer, { 'content-type': 'text/plain', ...location })
          .end(answer < 300 ? 'ok' : 'not now');
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/orders`;
  }

  /** The parsed bodies, in the order they arrived. */
  bodies(): Array<{
    id: string;
    type: string;
    createdAt: string;
    data: { orderId: string; status: string };
  }> {
    return this.received.map((request) => JSON.parse(request.body) as never);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
