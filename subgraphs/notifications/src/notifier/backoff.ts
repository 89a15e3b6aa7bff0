export interface RetryPolicy {
  baseMs: number;
  maxDelayMs: number;
  /** How long after its event a delivery is given up. */
  retryForMs: number;
}

/**
 * When a delivery that failed its `attempt`-th try (from 1) is tried again: exponential backoff
 * with full jitter (a random wait up to base x 2^(attempt-1), capped), so that endpoints coming
 * back do not get every retry at once. Null when that is past its time: it is given up.
 */
export function nextAttemptAt(
  policy: RetryPolicy,
  attempt: number,
  createdAt: Date,
  now = Date.now(),
  random = Math.random,
): Date | null {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.min(attempt - 1, 40));
  const at = now + Math.floor(random() * ceiling);
  return at > createdAt.getTime() + policy.retryForMs ? null : new Date(at);
}
