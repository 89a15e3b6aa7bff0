// `npm run token -- <user id or name> [--admin] [--expires 8h]`: prints a bearer token for the
// gateway, signed with the development secret (or JWT_SECRET / JWT_ISSUER / JWT_AUDIENCE when set,
// as the gateway reads them). A name such as `user1` is looked up through the running gateway.
// People sign in instead (the signIn mutation); this is for development and tests.
//
// `npm run token -- --new-signing-key [--alg EdDSA]`: prints a new private key for the users
// service's ACCESS_TOKEN_SIGNING_KEYS, as a key set of one (docs/security.md: rotating keys).
import { parseArgs } from 'node:util';
import {
  ACCESS_TOKEN_ALGORITHMS,
  generateSigningKey,
  signUserToken,
  userTokenSigningSettings,
  type AccessTokenAlgorithm,
} from '@brokerage/auth';
import { findUserByName } from './seed';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      admin: { type: 'boolean', default: false },
      expires: { type: 'string', default: '8h' },
      'new-signing-key': { type: 'boolean', default: false },
      alg: { type: 'string', default: 'ES256' },
    },
  });
  if (values['new-signing-key']) {
    const alg = values.alg as AccessTokenAlgorithm;
    if (!ACCESS_TOKEN_ALGORITHMS.includes(alg)) {
      console.error(`--alg must be one of ${ACCESS_TOKEN_ALGORITHMS.join(', ')}`);
      process.exit(2);
    }
    const key = await generateSigningKey(alg);
    console.error(`a new ${alg} signing key (kid ${key.kid}); it is private: keep it in a secret store`);
    console.log(JSON.stringify({ keys: [key] }));
    return;
  }
  const who = positionals[0];
  if (!who) {
    console.error(
      'usage: npm run token -- <user id or name> [--admin] [--expires 8h]\n' +
        '       npm run token -- --new-signing-key [--alg ES256|EdDSA]',
    );
    process.exit(2);
  }
  const gatewayUrl = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
  const userId = /^\d+$/.test(who) ? who : await findUserByName(gatewayUrl, who);
  if (!userId) {
    console.error(`no user named ${who} at ${gatewayUrl}`);
    process.exit(1);
  }
  const token = await signUserToken(userTokenSigningSettings(), userId, {
    admin: values.admin,
    expiresIn: values.expires,
  });
  console.error(`token for user ${userId}${values.admin ? ' (admin)' : ''}, valid ${values.expires}:`);
  console.log(token);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
