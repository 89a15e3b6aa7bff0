import { createHmac } from 'node:crypto';
import { newSigningSecret, signatureHeader, verifySignature } from '../src/webhooks/signature';
import { nextAttemptAt } from '../src/notifier/backoff';

describe('webhook signatures', () => {
  const secret = newSigningSecret();
  const body = JSON.stringify({ id: 'evt_order_1_completed', type: 'order.completed' });
  const now = Date.UTC(2026, 11, 3, 12, 0, 0);
  const t = now / 1000;

  it('signs "<t>.<body>" with HMAC-SHA256 in the Stripe t=...,v1=... form', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signatureHeader(secret, body, t)).toBe(`t=${t},v1=${expected}`);
  });

  it('verifies the body it signed and nothing else', () => {
    const header = signatureHeader(secret, body, t);
    expect(verifySignature(secret, body, header, 300, now)).toBe(true);
    expect(verifySignature(secret, `${body} `, header, 300, now)).toBe(false);
    expect(verifySignature(newSigningSecret(), body, header, 300, now)).toBe(false);
    // An old delivery sent again by someone else is out of the tolerance window.
    expect(verifySignature(secret, body, header, 300, now + 301_000)).toBe(false);
    expect(verifySignature(secret, body, 'v1=00', 300, now)).toBe(false);
  });
});

describe('webhook retries', () => {
  const policy = { baseMs: 1_000, maxDelayMs: 60_000, retryForMs: 86_400_000 };
  const createdAt = new Date(Date.UTC(2026, 11, 3));
  const now = createdAt.getTime();

  it('wait up to base x 2^(attempt-1), capped, with full jitter', () => {
    expect(nextAttemptAt(policy, 1, createdAt, now, () => 0.999)!.getTime() - now).toBe(999);
    expect(nextAttemptAt(policy, 4, createdAt, now, () => 0.5)!.getTime() - now).toBe(4_000);
    expect(nextAttemptAt(policy, 30, createdAt, now, () => 0.5)!.getTime() - now).toBe(30_000);
    expect(nextAttemptAt(policy, 3, createdAt, now, () => 0)!.getTime()).toBe(now);
  });

  it('give up once the next attempt would fall past the retry window', () => {
    const late = now + policy.retryForMs - 10_000;
    expect(nextAttemptAt(policy, 20, createdAt, late, () => 0.1)).not.toBeNull();
    expect(nextAttemptAt(policy, 20, createdAt, late, () => 0.9)).toBeNull();
  });
});
