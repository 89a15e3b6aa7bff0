import { readFileSync } from 'node:fs';
import RequestQueue from 'kafkajs/src/network/requestQueue';

// patches/kafkajs+2.2.4.patch, applied by `npm ci` (postinstall: patch-package), makes kafkajs'
// request queue arm its check timer only while a request waits. These tests fail when the
// installed kafkajs lacks the patch (an install with --ignore-scripts, or a kafkajs upgrade that
// dropped it); common/kafka/test/kafka-request-queue.int.test.ts checks the same against the broker.
describe('kafkajs request queue as installed (patches/kafkajs+2.2.4.patch)', () => {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const queues: RequestQueue[] = [];

  function queue(): RequestQueue {
    const made = new RequestQueue({
      maxInFlightRequests: null,
      requestTimeout: 30_000,
      enforceRequestTimeout: false,
      clientId: 'request-queue-unit-test',
      broker: '127.0.0.1:9092',
      logger: silent,
    });
    queues.push(made);
    return made;
  }

  afterEach(() => {
    for (const made of queues.splice(0)) {
      if (made.throttleCheckTimeoutId) clearTimeout(made.throttleCheckTimeoutId);
    }
  });

  it('arms no timer when no request waits', () => {
    const idle = queue();
    idle.scheduleCheckPendingRequests();
    expect(idle.throttleCheckTimeoutId).toBeNull();
  });

  it('arms a timer for a waiting request, never with a negative delay', () => {
    const waiting = queue();
    waiting.pending.push({});
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      waiting.scheduleCheckPendingRequests();
    } finally {
      process.off('warning', onWarning);
    }
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
    expect(warnings.filter(({ name }) => name === 'TimeoutNegativeWarning')).toEqual([]);
  });

  it('is the patched source that is installed', () => {
    const source = readFileSync(require.resolve('kafkajs/src/network/requestQueue'), 'utf8');
    expect(source).toContain('if (this.throttleCheckTimeoutId || this.pending.length === 0) return');
  });
});
