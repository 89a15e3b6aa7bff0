import { Agent, request } from 'undici';
import type { AddressGuard } from '../webhooks/address-guard';
import { SIGNATURE_HEADER, signatureHeader } from '../webhooks/signature';

export interface Attempt {
  url: string;
  secret: string;
  eventId: string;
  body: string;
}

/** How an attempt went: delivered on a 2xx answer; anything else is tried again later. */
export type AttemptOutcome =
  | { delivered: true; responseCode: number }
  | { delivered: false; responseCode: number | null; error: string };

/**
 * POSTs one signed delivery. Redirects are never followed (undici's `request` does not, and a
 * 3xx counts as a failure): a redirect could point anywhere, a private address included. The
 * socket connects only to an address the guard accepted at this moment (`connect.lookup`), and
 * the whole attempt, connecting included, ends at the timeout.
 */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(
    private readonly guard: AddressGuard,
    private readonly timeoutMs: number,
  ) {
    // No cap on connections per origin: the claims bound attempts per endpoint already, and
    // endpoints of different users on one origin must not queue behind each other.
    // undici's own timeouts are a backstop a little past the attempt's deadline (the signal in
    // send), which ends the attempt first.
    const backstopMs = timeoutMs + 1_000;
    this.agent = new Agent({
      connect: { timeout: backstopMs, lookup: guard.lookup() },
      headersTimeout: backstopMs,
      bodyTimeout: backstopMs,
      keepAliveTimeout: 10_000,
    });
  }

  async send(attempt: Attempt, shutdown: AbortSignal): Promise<AttemptOutcome> {
    let url: URL;
    try {
      // Scheme and address literals; host names are checked as the socket resolves them.
      url = this.guard.checkUrl(attempt.url);
    } catch (error) {
      return { delivered: false, responseCode: null, error: (error as Error).message };
    }
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), shutdown]);
    try {
      const response = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'brokerage-webhooks/1',
          'webhook-id': attempt.eventId,
          [SIGNATURE_HEADER]: signatureHeader(attempt.secret, attempt.body, Math.floor(Date.now() / 1000)),
        },
        body: attempt.body,
        signal,
        dispatcher: this.agent,
      });
      // The answer's body is not read, only drained (up to a small size) so the connection is reused.
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const code = response.statusCode;
      if (code >= 200 && code < 300) return { delivered: true, responseCode: code };
      return {
        delivered: false,
        responseCode: code,
        error: code >= 300 && code < 400 ? `redirect (${code}) not followed` : `answered ${code}`,
      };
    } catch (error) {
      const cause = (error as { cause?: Error }).cause;
      // Should undici's backstop fire first (a stalled event loop runs both timers in one turn),
      // it is the same event for the endpoint's owner.
      const timedOut =
        (signal.aborted && !shutdown.aborted) || [error, cause].some((failure) => isUndiciTimeout(failure));
      const message = timedOut
        ? `no answer within ${this.timeoutMs} ms`
        : (cause?.message ?? (error as Error).message);
      return { delivered: false, responseCode: null, error: message };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

const UNDICI_TIMEOUTS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function isUndiciTimeout(error: unknown): boolean {
  return UNDICI_TIMEOUTS.has((error as { code?: unknown } | undefined)?.code as string);
}
