import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import type { Logger } from '@brokerage/service';
import { MalformedAnswerError, TransientAnswerError } from './tsetmc-answers';

/**
 * What a browser sends to cdn.tsetmc.com, which answers 403 to a request without a browser's
 * User-Agent (Node's own is `node`). Overridden and extended by the configured headers.
 */
export const BROWSER_HEADERS: Record<string, string> = {
  'User-Agent':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  Accept: 'application/json, text/plain, */*',
  'Accept-Language': 'fa-IR,fa;q=0.9,en-US;q=0.8,en;q=0.7',
  Origin: 'https://www.tsetmc.com',
  Referer: 'https://www.tsetmc.com/',
};

export interface TsetmcHttpOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Attempts after the first, for transient failures. */
  retries: number;
  headers: Record<string, string>;
  logger: Logger;
  /** First retry after this long, doubling each time. */
  backoffMs?: number;
}

/**
 * GETs JSON from the exchange, telling transient failures from permanent ones:
 * - transient (retried with backoff, each time on a new connection): a network error, no answer
 *   within the time limit, 403 (the CDN's throttle), 429, 5xx, and an answer that `accept` rejects
 *   with TransientAnswerError (an empty list while the trade count says otherwise, say);
 * - permanent (thrown at once): any other status, and an answer that is not the API's JSON.
 * The servers behind the CDN differ, and a kept-alive connection stays on the one it reached: after
 * a transient failure every pooled connection is dropped, so the retry, and the next requests,
 * reach the CDN afresh.
 */
export class TsetmcHttp {
  private readonly client: typeof http | typeof https;
  private agent: http.Agent;

  constructor(private readonly options: TsetmcHttpOptions) {
    this.client = new URL(options.baseUrl).protocol === 'https:' ? https : http;
    this.agent = this.newAgent();
  }

  async getJson<T>(path: string, accept: (body: unknown) => T): Promise<T> {
    const { baseUrl, retries, logger, backoffMs = 500 } = this.options;
    const url = new URL(path, baseUrl);
    for (let attempt = 0; ; attempt += 1) {
      try {
        const { status, body } = await this.get(url);
        if (status === 403 || status === 429 || status >= 500)
          throw new TransientAnswerError(`HTTP ${status}`);
        if (status < 200 || status >= 300) throw new MalformedAnswerError(`${path}: HTTP ${status}`);
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          throw new MalformedAnswerError(`${path}: answer is not JSON`);
        }
        return accept(json);
      } catch (error) {
        if (error instanceof MalformedAnswerError) throw error;
        this.dropConnections();
        if (attempt >= retries)
          throw new Error(`${path}: no answer after ${attempt + 1} attempts: ${(error as Error).message}`);
        const delay = backoffMs * 2 ** attempt;
        logger.warn(
          { url: url.toString(), attempt: attempt + 1, delayMs: delay, err: error },
          'price source failed; retrying on a new connection',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private newAgent(): http.Agent {
    return new this.client.Agent({ keepAlive: true, maxSockets: 4 });
  }

  private dropConnections(): void {
    const old = this.agent;
    this.agent = this.newAgent();
    old.destroy();
  }

  /** One GET within the time limit: the status and the body, decompressed if it was compressed. */
  private get(url: URL): Promise<{ status: number; body: string }> {
    const { timeoutMs, headers } = this.options;
    return new Promise((resolve, reject) => {
      const request = this.client.get(url, { headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('aborted', () => reject(new Error('answer cut short')));
        response.on('end', () => {
          clearTimeout(timer);
          try {
            resolve({
              status: response.statusCode ?? 0,
              body: decoded(Buffer.concat(chunks), response.headers['content-encoding']).toString('utf8'),
            });
          } catch (error) {
            reject(new TransientAnswerError(`undecodable answer: ${(error as Error).message}`));
          }
        });
      });
      const timer = setTimeout(
        () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      ).unref();
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }
}

/** The body as sent before the Content-Encoding the server applied (if headers asked for one). */
function decoded(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
      return zlib.gunzipSync(body);
    case 'deflate':
      return zlib.inflateSync(body);
    case 'br':
      return zlib.brotliDecompressSync(body);
    default:
      return body;
  }
}
