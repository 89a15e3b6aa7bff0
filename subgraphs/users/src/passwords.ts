import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hash, verify, type Options } from '@node-rs/argon2';
import { SessionErrorCode } from '@brokerage/auth';
import { badUserInput, codedError } from '@brokerage/service';

/**
 * argon2id with the first configuration of the OWASP Password Storage Cheat Sheet: 19 MiB of
 * memory, 2 iterations, 1 degree of parallelism (docs/security.md). Stored hashes carry their
 * parameters, so raising them later still verifies the old ones.
 */
export const ARGON2_OPTIONS: Options = {
  // `Algorithm.Argon2id`: the package's enum is a `const enum`, which isolated modules cannot read.
  algorithm: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

/** OWASP ASVS 4.0.3 V2.1.1 (at least 12) and V2.1.2 (at least 64 allowed, at most 128). */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 128;

/** 3 to 32 of ASCII letters, digits, `_`, `.` and `-`, starting with a letter or a digit. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/;

/** The 10,000 most common passwords (data/README.md says where the list comes from). */
export function loadCommonPasswords(
  file = path.join(__dirname, '../data/common-passwords.txt'),
): ReadonlySet<string> {
  return new Set(
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- the service's own list of common passwords, named by its config
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim().toLowerCase())
      .filter((line) => line.length > 0),
  );
}

export function validUsername(raw: string, field = 'input.username'): string {
  if (!USERNAME_PATTERN.test(raw)) {
    throw badUserInput(
      'username must be 3 to 32 letters, digits, "_", "." or "-", starting with a letter or a digit',
      field,
    );
  }
  return raw;
}

export class Passwords {
  // Sign-in for a username nobody has verifies against this hash, so that it costs what a wrong
  // password costs and the answer's timing does not tell whether the username exists.
  private readonly dummyHash: Promise<string>;

  constructor(private readonly common: ReadonlySet<string>) {
    this.dummyHash = hash(randomBytes(32).toString('base64url'), ARGON2_OPTIONS);
  }

  /** Refuses a password a new one must not be (WEAK_PASSWORD, or BAD_USER_INPUT when over-long). */
  check(password: string, username: string | undefined, field: string): void {
    const length = [...password].length;
    if (length > MAX_PASSWORD_LENGTH) {
      throw badUserInput(`password must be at most ${MAX_PASSWORD_LENGTH} characters`, field);
    }
    if (length < MIN_PASSWORD_LENGTH) {
      throw weak(`password must be at least ${MIN_PASSWORD_LENGTH} characters`, field);
    }
    const lower = password.toLowerCase();
    if (this.common.has(lower))
      throw weak('this password is one of the most common ones: choose another', field);
    if (username !== undefined && lower === username.toLowerCase()) {
      throw weak('password must not be the username', field);
    }
  }

  hash(password: string): Promise<string> {
    return hash(password, ARGON2_OPTIONS);
  }

  /**
   * Whether `password` matches `storedHash`; with no stored hash (no such user) the same work is
   * done against the dummy hash and the answer is false.
   */
  async verify(storedHash: string | undefined, password: string): Promise<boolean> {
    const matches = await verify(storedHash ?? (await this.dummyHash), password).catch(() => false);
    return storedHash !== undefined && matches;
  }
}

function weak(message: string, field: string) {
  return codedError(SessionErrorCode.WEAK_PASSWORD, message, { field });
}
