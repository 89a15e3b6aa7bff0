import { unauthenticated, type Caller } from '@brokerage/auth';

/** The signed-in user: webhooks are always the caller's own. */
export function signedInUser(caller: Caller, what: string): string {
  if (caller.kind !== 'user') throw unauthenticated(`Sign in to ${what}`);
  return caller.userId;
}
