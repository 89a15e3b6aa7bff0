import { Agent, request } from 'undici';
import { BENCH_STOCK_ID, startBenchStack } from './stack';
import { percentile, quick, report, runStandalone } from './support';

// Scenario: buyStock through the gateway at steady rates (open loop: requests leave on schedule
// whether or not earlier ones answered), each step bounded in count and time. Reports the instant
// answer's p50/p99 at each rate, and the highest rate held with p99 under 5x the p50 at the lowest.

const RATES = (process.env.BENCH_BUY_RATES ?? (quick ? '10,20' : '25,50,100,200,400')).split(',').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_BUY_STEP_SECONDS ?? (quick ? 1 : 5));

export async function run() {
  const stack = await startBenchStack(`bench:${Date.now().toString(36)}:status:`);
  const agent = new Agent({ connections: 256 });
  const body = JSON.stringify({
    query: `mutation ($input: BuyStockInput!) { buyStock(input: $input) { status order { id } } }`,
    variables: { input: { userId: stack.userId, stockId: BENCH_STOCK_ID, quantity: 1 } },
  });
  const buy = async (): Promise<number> => {
    const started = performance.now();
    const response = await request(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...stack.asUser },
      body,
      dispatcher: agent,
    });
    const answer = (await response.body.json()) as { data?: { buyStock?: { status: string } } };
    if (answer.data?.buyStock?.status !== 'IN_PROGRESS')
      throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
    return performance.now() - started;
  };
  try {
    for (let i = 0; i < (quick ? 5 : 50); i += 1) await buy(); // warm-up: connections, JIT, query plans
    const steps: Array<{ rate: number; achieved: number; p50: number; p99: number; errors: number }> = [];
    for (const rate of RATES) {
      const total = rate * STEP_SECONDS;
      const latencies: number[] = [];
      let errors = 0;
      const started = performance.now();
      const inFlight: Array<Promise<void>> = [];
      for (let i = 0; i < total; i += 1) {
        const due = started + (i * 1_000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        inFlight.push(
          buy().then(
            (ms) => void latencies.push(ms),
            () => void (errors += 1),
          ),
        );
      }
      await Promise.all(inFlight);
      const seconds = (performance.now() - started) / 1_000;
      steps.push({
        rate,
        achieved: latencies.length / seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        errors,
      });
    }
    const baseline = steps[0]!.p50;
    const held = steps
      .filter(({ p99, errors }) => p99 < 5 * baseline && errors === 0)
      .map(({ rate }) => rate);
    report(
      'buy',
      steps.flatMap(({ rate, achieved, p50, p99, errors }) => [
        { name: `${rate}/s offered: answered per second`, value: achieved, unit: '/s' },
        {
          name: `${rate}/s offered: instant answer p50 / p99`,
          value: p50,
          unit: `ms / ${p99.toFixed(1)} ms`,
        },
        ...(errors > 0 ? [{ name: `${rate}/s offered: errors`, value: errors, unit: '' }] : []),
      ]),
      [
        {
          name: 'highest rate held with p99 < 5x the low-load p50 (req/s, as x)',
          value: Math.max(0, ...held),
        },
      ],
    );
  } finally {
    await agent.close();
    await stack.stop();
  }
}

if (require.main === module) runStandalone(run);
