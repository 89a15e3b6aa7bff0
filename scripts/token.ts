// `npm run token -- <user id or name> [--admin] [--expires 8h]`: prints a bearer token for the
// gateway, signed with the development secret (or JWT_SECRET / JWT_ISSUER / JWT_AUDIENCE when set,
// as the gateway reads them). A name such as `user1` is looked up through the running gateway.
import { parseArgs } from 'node:util';
import { signUserToken, userTokenSigningSettings } from '@brokerage/common';
import { findUserByName } from './seed';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { admin: { type: 'boolean', default: false }, expires: { type: 'string', default: '8h' } },
  });
  const who = positionals[0];
  if (!who) {
    console.error('usage: npm run token -- <user id or name> [--admin] [--expires 8h]');
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
