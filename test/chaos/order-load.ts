import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * Traders for the chaos test: a steady stream of buys, sells and cancels sent through both
 * gateways in turn, as a careful client sends them. A request whose answer is lost (a gateway or
 * subgraph died under it, a store was unreachable) is sent again through the other gateway with
 * the same clientOrderId, which the orders subgraph answers with the order already placed, so a
 * retry never doubles an order. Watchers follow some orders over graphql-ws and, when their
 * gateway dies, subscribe again through the other one.
 */

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'DENIED']);
/** Answers that are the service working as it should: the order is refused for a business reason. */
const BUSINESS_CODES = new Set(['ORDER_NOT_CANCELLABLE', 'PRICE_UNAVAILABLE']);
/** Answers a client retries: the platform could not do it now. */
const RETRIABLE_CODES = new Set(['DEPENDENCY_UNAVAILABLE']);

export interface Trader {
  userId: string;
  headers: Record<string, string>;
}

export interface LoadOptions {
  gatewayUrls: [string, string];
  traders: Trader[];
  stockIds: string[];
  /** Operations started per second. */
  rate: number;
  /** Every n-th accepted buy is watched over graphql-ws. */
  watchEvery: number;
}

/** One request as the client saw it: when it started, how long until a usable answer, and how. */
export interface Attempt {
  at: number;
  ms: number;
  outcome: 'ok' | 'business' | 'retriable' | 'lost' | 'internal';
  code?: string;
}

export interface Watch {
  orderId: string;
  statuses: string[];
  resubscribes: number;
  final?: string;
}

export class OrderLoad {
  readonly attempts: Attempt[] = [];
  /** Orders the platform accepted (IN_PROGRESS at placement), by id. */
  readonly accepted = new Map<string, { side: string; clientOrderId: string; userId: string }>();
  /** Every clientOrderId that was sent, and whether the client ever got an answer for it. */
  readonly sent = new Map<string, { answered: boolean; orderId?: string }>();
  readonly watches: Watch[] = [];
  /** Answers the platform must never give (internal errors), with their messages. */
  readonly internalErrors: string[] = [];
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly clients = new Set<Client>();
  private sequence = 0;
  private acceptedBuys = 0;
  private stopped = false;

  constructor(private readonly options: LoadOptions) {}

  start(): void {
    this.timer = setInterval(() => this.next(), 1_000 / this.options.rate);
  }

  /** Stops placing orders and waits for the ones in flight to be answered. */
  async drain(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
  }

  /** Waits until every watcher saw a final status, or `timeoutMs` passed. */
  async watchersDone(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.watches.some((watch) => !watch.final) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([...this.clients].map(async (client) => client.dispose()));
  }

  /** The longest wait any request started in [from, to) had before its answer. */
  longestWait(from: number, to: number): number {
    return Math.max(0, ...this.attempts.filter(({ at }) => at >= from && at < to).map(({ ms }) => ms));
  }

  private next() {
    if (this.inFlight.size >= 40) return;
    const n = this.sequence++;
    const trader = this.options.traders[n % this.options.traders.length]!;
    const stockId = this.options.stockIds[Math.floor(Math.random() * this.options.stockIds.length)]!;
    const roll = Math.random();
    let work: Promise<void>;
    if (roll < 0.6) work = this.place('buyStock', 'BuyStockInput', trader, stockId, n);
    else if (roll < 0.85) work = this.place('sellStock', 'SellStockInput', trader, stockId, n);
    else work = this.cancelOne(trader, n);
    const tracked = work.catch((error: unknown) => {
      this.internalErrors.push(`load: ${String(error)}`);
    });
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private async place(
    field: 'buyStock' | 'sellStock',
    inputType: string,
    trader: Trader,
    stockId: string,
    n: number,
  ) {
    const clientOrderId = `chaos-${n}`;
    this.sent.set(clientOrderId, { answered: false });
    const quantity = field === 'buyStock' ? 1 + (n % 3) : 1;
    const result = await this.send<{ order: { id: string }; status: string }>(
      n,
      trader,
      `mutation ($input: ${inputType}!) { result: ${field}(input: $input) { status order { id } } }`,
      { input: { stockId, quantity, clientOrderId } },
    );
    if (!result) return;
    this.sent.set(clientOrderId, { answered: true, orderId: result.order.id });
    if (result.status !== 'IN_PROGRESS') return;
    this.accepted.set(result.order.id, {
      side: field === 'buyStock' ? 'BUY' : 'SELL',
      clientOrderId,
      userId: trader.userId,
    });
    if (field === 'buyStock' && this.acceptedBuys++ % this.options.watchEvery === 0) {
      this.watch(result.order.id, trader, n % 2);
    }
  }

  private async cancelOne(trader: Trader, n: number) {
    // One of the trader's own orders, final or not: cancelling a final one is refused, as it should be.
    const own = [...this.accepted].filter(([, order]) => order.userId === trader.userId);
    if (own.length === 0) return;
    const [orderId] = own[Math.floor(Math.random() * own.length)]!;
    await this.send(n, trader, `mutation ($id: ID!) { result: cancelOrder(id: $id) { status } }`, {
      id: orderId,
    });
  }

  /**
   * Sends one operation until it gets an answer that is not "try again", alternating gateways;
   * gives up (the request is lost to the client, which the final checks account for) after 90 s.
   */
  private async send<T>(
    n: number,
    trader: Trader,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<T | undefined> {
    const deadline = Date.now() + 90_000;
    for (let attempt = 0; Date.now() < deadline && !this.stopped; attempt++) {
      const url = this.options.gatewayUrls[(n + attempt) % 2]!;
      const at = Date.now();
      const record = (outcome: Attempt['outcome'], code?: string) =>
        this.attempts.push({ at, ms: Date.now() - at, outcome, code });
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...trader.headers },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await response.json()) as {
          data?: { result: T } | null;
          errors?: Array<{ message: string; extensions?: { code?: string } }>;
        };
        const code = body.errors?.[0]?.extensions?.code;
        if (body.data?.result) {
          record('ok');
          return body.data.result;
        }
        if (code && BUSINESS_CODES.has(code)) {
          record('business', code);
          return undefined;
        }
        if (code && RETRIABLE_CODES.has(code)) {
          record('retriable', code);
        } else {
          record('internal', code);
          this.internalErrors.push(`${code ?? 'no code'}: ${body.errors?.[0]?.message ?? response.status}`);
          return undefined;
        }
      } catch {
        // The connection died under the request (a gateway was killed) or it timed out.
        record('lost');
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 200 * (attempt + 1))));
    }
    return undefined;
  }

  private watch(orderId: string, trader: Trader, gateway: number) {
    const watch: Watch = { orderId, statuses: [], resubscribes: 0 };
    this.watches.push(watch);
    const open = (which: number) => {
      if (this.stopped || watch.final) return;
      const client = createClient({
        url: this.options.gatewayUrls[which]!.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: trader.headers,
        retryAttempts: 0,
        lazy: true,
      });
      this.clients.add(client);
      let retired = false;
      const again = () => {
        if (retired) return;
        retired = true;
        this.clients.delete(client);
        void client.dispose();
        if (watch.final || this.stopped) return;
        watch.resubscribes++;
        setTimeout(() => open(1 - which), 250);
      };
      client.subscribe<{ orderStatus: { status: string } }>(
        {
          query: 'subscription ($id: ID!) { orderStatus(orderId: $id) { status } }',
          variables: { id: orderId },
        },
        {
          next: ({ data, errors }) => {
            // The gateway could not read the order just now (a store or subgraph was away): ask
            // again, as a client does, rather than wait for a change that may already be over.
            if (errors?.length) {
              again();
              return;
            }
            const status = data?.orderStatus.status;
            if (!status) return;
            watch.statuses.push(status);
            if (FINAL.has(status)) watch.final = status;
          },
          error: again,
          complete: () => {
            this.clients.delete(client);
            void client.dispose();
            if (!watch.final) again();
          },
        },
      );
    };
    open(gateway);
  }
}
