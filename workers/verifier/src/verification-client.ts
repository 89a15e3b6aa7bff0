import type { VerificationOutcome } from '@brokerage/verifier-contract';
import { Agent, request } from 'undici';

export interface VerificationClientOptions {
  baseUrl: string;
  stallLimitMs: number;
  maxConnections: number;
}

type Answer = VerificationOutcome['outcome'] | 'RETRY';

/**
 * Calls the external verification API. It answers after 1 to 100 s; a call with no answer by the
 * stall limit is abandoned as STALLED. A failing API (refused, 5xx, nonsense) is asked again until
 * the same limit, counted from the first attempt.
 *
 * The stall is decided by a timer racing the call, and the abandoned request is torn down only
 * afterwards: when thousands of calls stall in the same instant, tearing their sockets down takes
 * the event loop a while, and the outcomes must not wait for it.
 */
export class VerificationClient {
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly abandoned: AbortController[] = [];
  private tearingDown = false;

  constructor(private readonly options: VerificationClientOptions) {
    // One socket per waiting call: HTTP/1.1 cannot share a connection between slow answers.
    this.agent = new Agent({
      connections: options.maxConnections,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 60_000,
    });
    this.url = new URL('/verify', options.baseUrl);
  }

  async verify(
    orderId: string,
    userId: string,
    shutdown: AbortSignal,
  ): Promise<VerificationOutcome['outcome']> {
    const deadline = Date.now() + this.options.stallLimitMs;
    const body = JSON.stringify({ orderId, userId });
    for (let attempt = 0; ; attempt += 1) {
      // Abandoned (shutdown) is not an outcome: nothing is published and the request is read again.
      if (shutdown.aborted) throw new Error('verification abandoned');
      const remaining = deadline - Date.now();
      if (remaining <= 0) return 'STALLED';
      const call = new AbortController();
      const onShutdown = () => call.abort();
      shutdown.addEventListener('abort', onShutdown, { once: true });
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<Answer>((resolve) => {
        timer = setTimeout(() => resolve('STALLED'), remaining);
      });
      const answer = await Promise.race([this.attempt(body, call.signal), stalled]);
      clearTimeout(timer);
      shutdown.removeEventListener('abort', onShutdown);
      if (answer === 'STALLED') {
        this.abandon(call);
        return 'STALLED';
      }
      if (answer !== 'RETRY') return answer;
      if (shutdown.aborted) throw new Error('verification abandoned');
      // A failed attempt: wait a little (never past the deadline) and ask again.
      const pause = Math.min(1_000 * 2 ** Math.min(attempt, 4), Math.max(0, deadline - Date.now()));
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  private async attempt(body: string, signal: AbortSignal): Promise<Answer> {
    try {
      const response = await request(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal,
        dispatcher: this.agent,
      });
      if (response.statusCode !== 200) {
        await response.body.dump();
        return 'RETRY';
      }
      const answer = (await response.body.json()) as { verified?: unknown };
      if (typeof answer.verified !== 'boolean') return 'RETRY';
      return answer.verified ? 'APPROVED' : 'REJECTED';
    } catch {
      // Refused, reset or aborted: if the call was abandoned nobody waits for this answer.
      return 'RETRY';
    }
  }

  /**
   * Tears abandoned requests down a few at a time, between other work: a socket's teardown is
   * cheap alone, but thousands at once would hold back the timers of the calls still waiting.
   */
  private abandon(call: AbortController): void {
    this.abandoned.push(call);
    if (this.tearingDown) return;
    this.tearingDown = true;
    const step = () => {
      for (const next of this.abandoned.splice(0, 32)) next.abort();
      if (this.abandoned.length > 0) setTimeout(step, 0);
      else this.tearingDown = false;
    };
    setTimeout(step, 0);
  }

  close(): Promise<void> {
    return this.agent.destroy();
  }
}
