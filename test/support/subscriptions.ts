import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Subscription<T> {
  /** Every result received so far. */
  results: Array<{ data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> }>;
  /** Resolves when the server completes the subscription (or rejects on a socket error). */
  completed: Promise<void>;
  /** Resolves when at least `count` results have arrived. */
  received(count: number): Promise<void>;
  client: Client;
  dispose(): Promise<void>;
}

/** graphql-ws reports an Error, a CloseEvent (code and reason of a closed socket) or GraphQL errors. */
function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  const { code, reason } = (error ?? {}) as { code?: unknown; reason?: unknown };
  if (typeof code === 'number') return new Error(`socket closed: ${code} ${String(reason)}`);
  return new Error(JSON.stringify(error));
}

/** Opens a graphql-ws connection to `url` (http:// is turned into ws://) and subscribes. */
export function subscribe<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  connectionParams: Record<string, unknown> = {},
): Subscription<T> {
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
  const results: Subscription<T>['results'] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const completed = new Promise<void>((resolve, reject) => {
    client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          results.push(result as Subscription<T>['results'][number]);
          for (const waiter of waiters.filter(({ count }) => results.length >= count)) waiter.resolve();
        },
        error: (error) => reject(asError(error)),
        complete: resolve,
      },
    );
  });
  completed.catch(() => undefined);
  return {
    results,
    completed,
    received: (count) =>
      results.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    client,
    dispose: () => client.dispose() as Promise<void>,
  };
}
