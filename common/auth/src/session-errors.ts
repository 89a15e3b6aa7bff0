/**
 * The `extensions.code` values of sign-up, sign-in and sessions (the users service's), beside the
 * platform's `ErrorCode`s (BAD_USER_INPUT, UNAUTHENTICATED, RATE_LIMITED, ...).
 */
export const SessionErrorCode = {
  /** Sign-in or changePassword: the username and password do not match, whichever is wrong. */
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  /** Sign-up: someone has this username already (compared case-insensitively). */
  USERNAME_TAKEN: 'USERNAME_TAKEN',
  /** The new password is too short, too common or the username itself (`extensions.field` says where). */
  WEAK_PASSWORD: 'WEAK_PASSWORD',
  /** The refresh token is unknown, expired, signed out, or was already used (which ends its session). */
  INVALID_REFRESH_TOKEN: 'INVALID_REFRESH_TOKEN',
} as const;
export type SessionErrorCode = (typeof SessionErrorCode)[keyof typeof SessionErrorCode];
