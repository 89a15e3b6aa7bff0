import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { codedError, ErrorCode, type Logger } from '@brokerage/service';
import { OperationTypeNode, type FieldNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { collectFields } from 'graphql/execution/collectFields';
import { getArgumentValues, getVariableValues } from 'graphql/execution/values';
import { Counter, type Registry } from 'prom-client';
import type { RateVerdict, RateLimiter } from './rate-limiter';
import type { RateLimitedContext } from './mutation-rate-limit';
import { fragmentsOf } from './root-fields';

/** The mutation whose attempts are limited: it is where passwords are guessed. */
const SIGN_IN_FIELD = 'signIn';

/**
 * The usernames the operation's signIn fields will try, as execution will see them (fragments
 * expanded, @skip/@include and variables applied); fields whose arguments do not coerce are left
 * out, since they fail before they run.
 */
export function signInUsernames(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: ReturnType<typeof fragmentsOf>,
  variables: Readonly<Record<string, unknown>> | undefined,
): string[] {
  const mutation = schema.getMutationType();
  const field = mutation?.getFields()[SIGN_IN_FIELD];
  if (!mutation || !field) return [];
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return [];
  const usernames: string[] = [];
  for (const nodes of collectFields(
    schema,
    fragments,
    coerced.coerced,
    mutation,
    operation.selectionSet,
  ).values()) {
    const node: FieldNode = nodes[0]!;
    if (node.name.value !== SIGN_IN_FIELD) continue;
    try {
      const { input } = getArgumentValues(field, node, coerced.coerced) as { input?: { username?: unknown } };
      if (typeof input?.username === 'string') usernames.push(input.username);
    } catch {
      // Arguments that do not coerce: the field is refused before it runs.
    }
  }
  return usernames;
}

// Usernames compare case-insensitively; the key holds a digest, so a long hostile "username"
// makes no long key and no username is written to Redis in the clear.
function usernameKey(username: string): string {
  return createHash('sha256').update(username.toLowerCase()).digest('base64url').slice(0, 22);
}

/**
 * Limits sign-in attempts per username and per client address, in Redis across every gateway
 * replica, before the operation is planned: every attempt counts, whatever its outcome (the
 * gateway does not know it yet, and counting only failures would let parallel guesses through).
 * Over either limit, the attempt is refused with RATE_LIMITED, HTTP 429 and Retry-After,
 * whether or not the username exists. As with the mutation limit, the attempt goes through
 * when Redis does not answer.
 */
export function signInLimitPlugin<C extends RateLimitedContext>(
  limiters: { perUsername: RateLimiter; perAddress: RateLimiter },
  logger: Logger,
  registry: Registry,
): ApolloServerPlugin<C> {
  const refused = new Counter({
    name: 'graphql_sign_in_limited_total',
    help: 'Sign-in attempts refused because their username or address was over its limit',
    labelNames: ['by'],
    registers: [registry],
  });
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue, response }) {
          if (operation?.operation !== OperationTypeNode.MUTATION) return;
          const usernames = signInUsernames(schema, operation, fragmentsOf(document), request.variables);
          if (usernames.length === 0) return;
          let verdicts: Array<{ by: 'address' | 'username'; verdict: RateVerdict }>;
          try {
            verdicts = await Promise.all([
              limiters.perAddress
                .consume(contextValue.clientAddress, usernames.length)
                .then((verdict) => ({ by: 'address' as const, verdict })),
              ...usernames.map((username) =>
                limiters.perUsername
                  .consume(usernameKey(username))
                  .then((verdict) => ({ by: 'username' as const, verdict })),
              ),
            ]);
          } catch (error) {
            logger.warn({ err: error }, 'sign-in attempts not counted: Redis did not answer');
            return;
          }
          const over = verdicts.filter(({ verdict }) => !verdict.allowed);
          if (over.length === 0) return;
          for (const { by } of over) refused.inc({ by });
          const retryAfterSeconds = Math.max(
            1,
            ...over.map(({ verdict }) => Math.ceil(verdict.resetMs / 1000)),
          );
          response.http.headers.set('retry-after', String(retryAfterSeconds));
          throw codedError(
            ErrorCode.RATE_LIMITED,
            `Too many sign-in attempts: try again in ${retryAfterSeconds} s`,
            { retryAfterSeconds, http: { status: 429 } },
          );
        },
      };
    },
  };
}
