import { codedError, ErrorCode } from '@brokerage/service';

/**
 * Who is asking, as every service sees it. The gateway turns a client's bearer token into a
 * `user` (or leaves it `anonymous`); a service calling another service is a `service`.
 */
export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'user'; userId: string; admin: boolean }
  | { kind: 'service'; service: string };

export const ANONYMOUS: Caller = Object.freeze({ kind: 'anonymous' });

/** A credential that was sent but is not valid: the request is refused before it runs. */
export class AuthenticationError extends Error {
  readonly code = ErrorCode.UNAUTHENTICATED;
}

export function unauthenticated(message = 'Sign in to do this: send a bearer token') {
  return codedError(ErrorCode.UNAUTHENTICATED, message);
}

export function forbidden(message = 'You may not do this') {
  return codedError(ErrorCode.FORBIDDEN, message);
}

export function isAdmin(caller: Caller): boolean {
  return caller.kind === 'user' && caller.admin;
}

/** The caller may act for `userId`: it is that user, an admin, or a service. */
export function mayActFor(caller: Caller, userId: string): boolean {
  if (caller.kind === 'service') return true;
  return caller.kind === 'user' && (caller.admin || caller.userId === userId);
}

/** Throws UNAUTHENTICATED for anyone signed out, FORBIDDEN for a user acting for another user. */
export function requireActingFor(caller: Caller, userId: string, what: string): void {
  if (caller.kind === 'anonymous') throw unauthenticated(`Sign in to ${what}`);
  if (!mayActFor(caller, userId)) throw forbidden(`You may ${what} only for yourself`);
}

/** Throws unless the caller is an admin (or a service acting inside the platform). */
export function requireAdmin(caller: Caller, what: string): void {
  if (caller.kind === 'anonymous') throw unauthenticated(`Sign in as an admin to ${what}`);
  if (caller.kind === 'user' && !caller.admin) throw forbidden(`Only admins may ${what}`);
}

/** Throws FORBIDDEN unless the caller is the named service: for service-to-service operations. */
export function requireService(caller: Caller, service: string, what: string): void {
  if (caller.kind !== 'service' || caller.service !== service) {
    throw forbidden(`Only the ${service} service may ${what}`);
  }
}
