import { randomUUID } from 'node:crypto';
import type { BaseContext } from '@apollo/server';
import type { Caller } from '@brokerage/auth';
import type { Logger } from '@brokerage/service';

/** What every GraphQL operation's context holds, in every service. */
export interface RequestContext extends BaseContext {
  requestId: string;
  logger: Logger;
  /** The incoming HTTP headers, lower-cased (for forwarding identity and tracing). */
  headers: Record<string, string>;
  /** Who is asking, established before the operation runs. */
  caller: Caller;
}

export const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** The caller's request id when it is a sane one, else a new one. */
export function requestIdFrom(headers: Record<string, string | string[] | undefined>): string {
  const given = headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}
