import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTracing, type Tracing } from '@brokerage/service';
import { asAdmin, asUser } from '../support/auth';
import { expectData } from '../support/graphql';
import { startPlatformStack, type PlatformStack } from '../support/platform-stack';
import { eventually } from '../support/price-series';

interface ExportedSpan {
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

interface OtlpExport {
  resourceSpans: Array<{
    scopeSpans: Array<{
      scope: { name: string };
      spans: Array<Omit<ExportedSpan, 'scope'>>;
    }>;
  }>;
}

// OTLP span kinds.
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** An OTLP/HTTP receiver on loopback: what Jaeger or an OpenTelemetry Collector would get. */
async function startCollector() {
  const spans: ExportedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
      for (const { scopeSpans } of body.resourceSpans) {
        for (const { scope, spans: exported } of scopeSpans) {
          for (const span of exported) spans.push({ ...span, scope: scope.name });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, close: () => server.close() };
}

describe('one trace from the buy request to the verifier and back', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let tracing: Tracing;
  let stack: PlatformStack;

  beforeAll(async () => {
    collector = await startCollector();
    // Every service of the stack runs in this process, so one provider exports them all; each
    // service's spans come from a tracer named after it.
    tracing = startTracing('platform-under-test', collector.url);
    stack = await startPlatformStack({
      verification: { stallLimitMs: 10_000, decide: () => ({ delayMs: 50, verified: true }) },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await tracing?.shutdown();
    collector?.close();
  });

  it('joins the gateway, the subgraphs, Kafka and the verifier by trace context', async () => {
    const admin = await asAdmin();
    const stockId = '44891482026867833';
    await stack.listStock({ id: stockId, symbol: 'stock1', price: 10 });
    const { createUser } = await expectData<{ createUser: { id: string } }>(
      stack.gatewayUrl,
      `mutation { createUser(input: { name: "Traced", credit: 1000 }) { id } }`,
      {},
      admin,
    );
    const owner = await asUser(createUser.id);
    const { buyStock } = await expectData<{ buyStock: { order: { id: string } } }>(
      stack.gatewayUrl,
      `mutation Buy($input: BuyStockInput!) { buyStock(input: $input) { order { id } } }`,
      { input: { userId: createUser.id, stockId, quantity: 2 } },
      owner,
    );
    await eventually(
      async () =>
        (
          await expectData<{ order: { status: string } }>(
            stack.gatewayUrl,
            `query ($id: ID!) { order(id: $id) { status } }`,
            { id: buyStock.order.id },
            owner,
          )
        ).order.status,
      (status) => status === 'COMPLETED',
      20_000,
    );

    // The final status goes out through the outbox after the outcome: wait until its span is exported.
    const trace = await eventually(
      async () => {
        await tracing.flush();
        const root = collector.spans.find((span) => span.scope === 'gateway' && span.name === 'mutation Buy');
        return root ? collector.spans.filter((span) => span.traceId === root.traceId) : [];
      },
      (spans) => spans.some((span) => span.scope === 'orders' && /status-changes$/.test(span.name)),
      20_000,
    );
    const has = (scope: string, kind: number, name: RegExp) =>
      trace.some((span) => span.scope === scope && span.kind === kind && name.test(span.name));

    expect(has('gateway', SERVER, /^mutation Buy$/)).toBe(true);
    expect(has('gateway', CLIENT, /^subgraph orders$/)).toBe(true);
    expect(has('orders', SERVER, /^mutation /)).toBe(true);
    // Through the outbox and Kafka to the verifier, and its outcome back to the orders service.
    expect(has('orders', PRODUCER, /verification-requests$/)).toBe(true);
    expect(has('verifier', CONSUMER, /^verify order$/)).toBe(true);
    expect(has('orders', CONSUMER, /verification-outcomes$/)).toBe(true);
    // The status change the outcome made, announced through the outbox in the same trace.
    expect(has('orders', PRODUCER, /status-changes$/)).toBe(true);
    // Every span but the root hangs from another span of the same trace.
    const ids = new Set(trace.map(({ spanId }) => spanId));
    const orphans = trace.filter(({ parentSpanId }) => parentSpanId && !ids.has(parentSpanId));
    expect(orphans).toEqual([]);
    expect(trace.filter(({ parentSpanId }) => !parentSpanId)).toHaveLength(1);
  });
});
