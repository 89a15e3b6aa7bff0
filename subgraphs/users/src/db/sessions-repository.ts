import { createHash, randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';

/** Why a session ended (sessions.revoked_reason). */
export type SessionEndReason =
  'SIGN_OUT' | 'SIGN_OUT_EVERYWHERE' | 'PASSWORD_CHANGED' | 'REFRESH_TOKEN_REUSED' | 'CREDENTIALS_RESET';

export interface IssuedRefreshToken {
  sessionId: string;
  refreshToken: string;
  expiresAt: Date;
}

export type Rotation =
  | ({ kind: 'rotated'; userId: string; admin: boolean } & IssuedRefreshToken)
  /** The token had been rotated already: someone holds a copy, and its whole session has ended. */
  | { kind: 'reused' }
  | { kind: 'invalid' };

/** 32 random bytes, base64url: what a refresh token always looks like. */
const REFRESH_TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

// A refresh token carries 256 random bits, so one SHA-256 (no salt, no stretching) is enough to
// keep a stolen table from being usable: there is nothing to guess.
function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Sessions and their refresh tokens. A session is a family of refresh tokens: each use of one
 * rotates it (the used token is kept, marked rotated, and a new one issued), and presenting a
 * rotated token again ends the whole session, as the OAuth 2.0 Security BCP (RFC 9700, 4.14.2)
 * asks: either the client or an attacker holds a copy, and the server cannot tell which.
 */
export class SessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Starts a session for the user and issues its first refresh token. */
  start(userId: string, ttlSeconds: number, manager?: EntityManager): Promise<IssuedRefreshToken> {
    const run = async (tx: EntityManager) => {
      // The user's ended sessions go (their refresh tokens with them): a token of one is then
      // unknown rather than revoked, which is answered the same, so nothing piles up per user.
      await tx.query(
        'DELETE FROM sessions WHERE user_id = $1 AND (revoked_at IS NOT NULL OR expires_at <= now())',
        [userId],
      );
      const [session] = await tx.query<Array<{ id: string; expires_at: Date }>>(
        `INSERT INTO sessions (user_id, expires_at) VALUES ($1, now() + make_interval(secs => $2))
         RETURNING id, expires_at`,
        [userId, ttlSeconds],
      );
      const refreshToken = await this.issue(tx, session!.id);
      return { sessionId: session!.id, refreshToken, expiresAt: session!.expires_at };
    };
    return manager ? run(manager) : this.dataSource.transaction(run);
  }

  /** Exchanges a refresh token for the next one of its session (see the class comment). */
  async rotate(refreshToken: string): Promise<Rotation> {
    if (!REFRESH_TOKEN_FORMAT.test(refreshToken)) return { kind: 'invalid' };
    const hash = hashOf(refreshToken);
    // Two uses of one token at once: the row lock makes the second wait and then see it rotated.
    return this.dataSource.transaction(async (tx): Promise<Rotation> => {
      const [row] = await tx.query<
        Array<{
          session_id: string;
          rotated: boolean;
          live: boolean;
          user_id: string;
          admin: boolean;
          expires_at: Date;
        }>
      >(
        `SELECT t.session_id, t.rotated_at IS NOT NULL AS rotated,
                s.revoked_at IS NULL AND s.expires_at > now() AS live, s.user_id, s.expires_at, u.admin
           FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
          WHERE t.token_hash = $1
          FOR UPDATE OF t, s`,
        [hash],
      );
      if (!row || !row.live) return { kind: 'invalid' };
      if (row.rotated) {
        await this.end(tx, 'id = $1', [row.session_id], 'REFRESH_TOKEN_REUSED');
        return { kind: 'reused' };
      }
      await tx.query('UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1', [hash]);
      return {
        kind: 'rotated',
        userId: row.user_id,
        admin: row.admin,
        sessionId: row.session_id,
        refreshToken: await this.issue(tx, row.session_id),
        expiresAt: row.expires_at,
      };
    });
  }

  /** Ends the session a refresh token belongs to (rotated or not); false when none is live. */
  async endByToken(refreshToken: string): Promise<boolean> {
    if (!REFRESH_TOKEN_FORMAT.test(refreshToken)) return false;
    const ended = await this.end(
      this.dataSource.manager,
      'id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1)',
      [hashOf(refreshToken)],
      'SIGN_OUT',
    );
    return ended > 0;
  }

  /** Ends every live session of the user; returns how many. */
  endAll(userId: string, reason: SessionEndReason, manager: EntityManager = this.dataSource.manager) {
    return this.end(manager, 'user_id = $1', [userId], reason);
  }

  private async end(
    manager: EntityManager,
    where: string,
    params: unknown[],
    reason: SessionEndReason,
  ): Promise<number> {
    const [, count] = await manager.query<[unknown[], number]>(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $${params.length + 1}
        WHERE ${where} AND revoked_at IS NULL`,
      [...params, reason],
    );
    return count;
  }

  private async issue(manager: EntityManager, sessionId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await manager.query('INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)', [
      hashOf(token),
      sessionId,
    ]);
    return token;
  }
}
