import { signUserToken, userTokenSigningSettings } from '@brokerage/auth';

// The gateway's development settings: tests sign tokens as the identity provider would issue them.
const settings = userTokenSigningSettings({});

/** Headers of a request sent by the given user (also usable as graphql-ws connectionParams). */
export async function asUser(userId: string): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await signUserToken(settings, userId)}` };
}

/** Headers of a request sent by an admin (the back office). */
export async function asAdmin(): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await signUserToken(settings, 'admin', { admin: true })}` };
}

export function tokenFor(userId: string, options: { admin?: boolean; expiresIn?: string | number } = {}) {
  return signUserToken(settings, userId, options);
}
