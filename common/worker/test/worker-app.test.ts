import { createLogger, type ServicePart } from '@brokerage/service';
import { createWorkerApp } from '../src/worker-app';

const logger = createLogger({ service: 'worker-app-test', level: 'silent' });
// The Kafka client is only constructed; nothing here connects to a broker.
const config = {
  PORT: 0,
  HOST: '127.0.0.1',
  KAFKA_BROKERS: ['127.0.0.1:1'],
  KAFKA_SSL: false,
  KAFKA_SSL_REJECT_UNAUTHORIZED: true,
};

/** A part that writes what happens to it in `events`. */
function recordingPart(name: string, events: string[], extra: Partial<ServicePart> = {}): ServicePart {
  return {
    name,
    start: async () => void events.push(`start ${name}`),
    stop: async () => void events.push(`stop ${name}`),
    ...extra,
  };
}

async function readiness(url: string) {
  const response = await fetch(`${url}/ready`);
  return { status: response.status, body: (await response.json()) as { checks: Record<string, string> } };
}

describe('a worker built with createWorkerApp', () => {
  it('starts its parts in order, serves their checks on /ready, and stops them in reverse after /ready fails', async () => {
    const events: string[] = [];
    let url = '';
    const app = createWorkerApp({
      name: 'ordered-worker',
      config,
      logger,
      parts: () => [
        recordingPart('store', events, { ready: { store: async () => 'ok' } }),
        recordingPart('consumer', events, {
          // While the consumer stops, the worker must already answer 503 so that no work is routed to it.
          stop: async () => {
            events.push(`stop consumer, ready ${(await readiness(url)).status}`);
          },
        }),
      ],
    });
    url = (await app.start()).url;
    expect(events).toEqual(['start store', 'start consumer']);
    const ready = await readiness(url);
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ store: 'ok' });
    await app.stop();
    expect(events).toEqual(['start store', 'start consumer', 'stop consumer, ready 503', 'stop store']);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('stops every part even when one fails to stop, and reports the first failure', async () => {
    const events: string[] = [];
    const app = createWorkerApp({
      name: 'failing-stop-worker',
      config,
      logger,
      parts: () => [
        recordingPart('store', events),
        recordingPart('consumer', events, { stop: () => Promise.reject(new Error('commit refused')) }),
      ],
    });
    await app.start();
    await expect(app.stop()).rejects.toThrow('commit refused');
    expect(events).toEqual(['start store', 'start consumer', 'stop store']);
  });

  it('stops the parts already started when a later one fails to start', async () => {
    const events: string[] = [];
    const app = createWorkerApp({
      name: 'failing-start-worker',
      config,
      logger,
      parts: () => [
        recordingPart('store', events),
        recordingPart('consumer', events, { start: () => Promise.reject(new Error('no broker')) }),
        recordingPart('never', events),
      ],
    });
    await expect(app.start()).rejects.toThrow('no broker');
    expect(events).toEqual(['start store', 'stop store']);
  });

  it('reports the first part that fails for good as the worker failing', async () => {
    let giveUp: (error: Error) => void = () => undefined;
    const app = createWorkerApp({
      name: 'giving-up-worker',
      config,
      logger,
      parts: () => [
        { name: 'timer' },
        { name: 'consumer', failed: new Promise<Error>((resolve) => (giveUp = resolve)) },
      ],
    });
    giveUp(new Error('consumer crashed'));
    await expect(app.failed).resolves.toMatchObject({ message: 'consumer crashed' });
  });
});
