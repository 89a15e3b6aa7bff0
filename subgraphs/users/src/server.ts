import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { AccessTokenSigner, InternalTokens, SigningKeySet } from '@brokerage/auth';
import { createLogger, type Logger } from '@brokerage/service';
import { startDatabaseSubgraph, type RunningSubgraph } from '@brokerage/subgraph';
import { TradingAccounts } from './clients/trading-accounts';
import type { UsersConfig } from './config';
import { createUsersContext } from './context';
import { usersDatabase } from './db';
import { SessionsRepository } from './db/sessions-repository';
import { UsersRepository } from './db/users-repository';
import { loadCommonPasswords, Passwords } from './passwords';
import { resolvers } from './resolvers';
import { SessionService } from './sessions';

export const typeDefs = readFileSync(path.join(__dirname, '../schema.graphql'), 'utf8');

/** Where the public keys of access tokens are served; the gateway's JWT_JWKS_URL points here. */
export const JWKS_PATH = '/.well-known/jwks.json';

/** Asks for a key generated at start, where config would otherwise require a key set. */
export const GENERATE_AT_START = 'generate-at-start';

/** The signing keys from config, or a new one (see ACCESS_TOKEN_SIGNING_KEYS in config). */
async function signingKeys(config: UsersConfig, logger: Logger): Promise<SigningKeySet> {
  const configured = config.ACCESS_TOKEN_SIGNING_KEYS;
  if (configured && configured !== GENERATE_AT_START) return SigningKeySet.fromJson(configured);
  const keys = await SigningKeySet.generate();
  logger.warn(
    { kid: keys.currentKid },
    'access tokens are signed with a key generated at start: they stop working when this process ends',
  );
  return keys;
}

function jwksRoute(keys: SigningKeySet) {
  const body = JSON.stringify(keys.publicJwks);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== JWKS_PATH) return false;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
    res.end(body);
    return true;
  };
}

/** Opens (and migrates) the users database and serves the users subgraph. */
export async function start(
  config: UsersConfig,
  logger: Logger = createLogger({ service: 'users' }),
): Promise<RunningSubgraph> {
  const keys = await signingKeys(config, logger);
  const signer = new AccessTokenSigner(keys, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    lifetimeSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  const passwords = new Passwords(loadCommonPasswords());
  return startDatabaseSubgraph({
    service: 'users',
    config,
    logger,
    typeDefs,
    resolvers,
    ...usersDatabase,
    routes: jwksRoute(keys),
    context: (dataSource) => {
      const users = new UsersRepository(dataSource);
      const tradingAccounts = new TradingAccounts(
        config.ORDERS_SUBGRAPH_URL,
        config.SERVICE_TIMEOUT_MS,
        new InternalTokens(config.INTERNAL_AUTH_SECRET, 'users'),
      );
      const sessions = new SessionService(
        users,
        new SessionsRepository(dataSource),
        passwords,
        signer,
        config.REFRESH_TOKEN_TTL_SECONDS,
      );
      return (base) => createUsersContext(base, users, tradingAccounts, sessions);
    },
  });
}
