import type { ReadBudgetContext } from './security/read-budget';

/**
 * What every operation's context holds in the gateway, over HTTP and over WebSocket: the request's
 * identity and logger, the client's address (for rate limits), and whether its reads are paid.
 */
export type GatewayContext = ReadBudgetContext;
