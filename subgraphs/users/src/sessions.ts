import { SessionErrorCode, unauthenticated, type AccessTokenSigner, type Caller } from '@brokerage/auth';
import { codedError } from '@brokerage/service';
import type { TradingAccounts } from './clients/trading-accounts';
import type { SessionsRepository } from './db/sessions-repository';
import type { UserRecord } from './db/user-entity';
import type { UsersRepository } from './db/users-repository';
import { validUsername, type Passwords } from './passwords';

export interface AuthSessionResult {
  accessToken: string;
  tokenType: 'Bearer';
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: UserRecord;
}

const INVALID_CREDENTIALS_MESSAGE = 'The username or the password is wrong';

function invalidCredentials(field?: string) {
  return codedError(
    SessionErrorCode.INVALID_CREDENTIALS,
    INVALID_CREDENTIALS_MESSAGE,
    field ? { field } : {},
  );
}

function invalidRefreshToken() {
  return codedError(SessionErrorCode.INVALID_REFRESH_TOKEN, 'The refresh token is not valid: sign in again', {
    field: 'refreshToken',
  });
}

/**
 * Sign-up, sign-in and sessions: passwords checked here, refresh tokens kept by the sessions
 * table, access tokens signed with this service's key (which the gateway verifies by its JWKS).
 */
export class SessionService {
  constructor(
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly passwords: Passwords,
    private readonly signer: AccessTokenSigner,
    private readonly refreshTokenTtlSeconds: number,
  ) {}

  async signUp(
    input: { username: string; password: string; name: string },
    tradingAccounts: TradingAccounts,
    requestId: string,
  ): Promise<AuthSessionResult> {
    const username = validUsername(input.username);
    this.passwords.check(input.password, username, 'input.password');
    const passwordHash = await this.passwords.hash(input.password);
    // No starting cash: money arrives by an admin's deposit.
    const user = await this.users.create(
      { name: input.name, credentials: { username, passwordHash } },
      (created) => tradingAccounts.open(created.id, 0, requestId),
    );
    return this.startSession(user.id, false);
  }

  /**
   * The same answer, after the same work (one argon2id verification), for a username nobody has
   * and for a wrong password.
   */
  async signIn(input: { username: string; password: string }): Promise<AuthSessionResult> {
    const record = await this.users.findSignIn(input.username);
    const matches = await this.passwords.verify(record?.passwordHash, input.password);
    if (!record || !matches) throw invalidCredentials();
    return this.startSession(record.id, record.admin);
  }

  async refresh(refreshToken: string): Promise<AuthSessionResult> {
    const rotation = await this.sessions.rotate(refreshToken);
    if (rotation.kind !== 'rotated') throw invalidRefreshToken();
    return this.session(rotation.userId, rotation.admin, rotation);
  }

  signOut(refreshToken: string): Promise<boolean> {
    return this.sessions.endByToken(refreshToken);
  }

  signOutEverywhere(caller: Caller): Promise<number> {
    if (caller.kind !== 'user') throw unauthenticated('Sign in to sign out everywhere');
    return this.sessions.endAll(caller.userId, 'SIGN_OUT_EVERYWHERE');
  }

  async changePassword(
    caller: Caller,
    input: { currentPassword: string; newPassword: string },
  ): Promise<AuthSessionResult> {
    if (caller.kind !== 'user') throw unauthenticated('Sign in to change your password');
    const record = await this.users.findSignInById(caller.userId);
    if (!(await this.passwords.verify(record?.passwordHash, input.currentPassword))) {
      throw invalidCredentials('input.currentPassword');
    }
    this.passwords.check(input.newPassword, undefined, 'input.newPassword');
    if (input.newPassword === input.currentPassword) {
      throw codedError(SessionErrorCode.WEAK_PASSWORD, 'the new password must differ from the current one', {
        field: 'input.newPassword',
      });
    }
    const passwordHash = await this.passwords.hash(input.newPassword);
    // Every session ends with the old password (a thief's too) and this client gets a new one.
    let started: Awaited<ReturnType<SessionsRepository['start']>> | undefined;
    await this.users.setCredentials(caller.userId, { passwordHash }, async (manager) => {
      await this.sessions.endAll(caller.userId, 'PASSWORD_CHANGED', manager);
      started = await this.sessions.start(caller.userId, this.refreshTokenTtlSeconds, manager);
    });
    return this.session(caller.userId, record!.admin, started!);
  }

  /** The back office sets a user's username and password; their sessions end. */
  async setCredentials(input: { userId: string; username: string; password: string }): Promise<boolean> {
    const username = validUsername(input.username);
    this.passwords.check(input.password, username, 'input.password');
    const passwordHash = await this.passwords.hash(input.password);
    return this.users.setCredentials(input.userId, { username, passwordHash }, async (manager) => {
      await this.sessions.endAll(input.userId, 'CREDENTIALS_RESET', manager);
    });
  }

  private async startSession(userId: string, admin: boolean): Promise<AuthSessionResult> {
    return this.session(userId, admin, await this.sessions.start(userId, this.refreshTokenTtlSeconds));
  }

  private async session(
    userId: string,
    admin: boolean,
    issued: { refreshToken: string; expiresAt: Date },
  ): Promise<AuthSessionResult> {
    const [access, [user]] = await Promise.all([
      this.signer.sign(userId, { admin }),
      this.users.findByIds([userId]),
    ]);
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: issued.refreshToken,
      refreshTokenExpiresAt: issued.expiresAt,
      user: user!,
    };
  }
}
