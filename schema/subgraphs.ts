/**
 * The subgraphs composed into the supergraph. `url` is where each listens in development;
 * the gateway overrides any of them with SUBGRAPH_<NAME>_URL (e.g. SUBGRAPH_USERS_URL).
 */
export const subgraphs = [
  { name: 'users', schemaPath: 'subgraphs/users/schema.graphql', url: 'http://127.0.0.1:4001/graphql' },
  { name: 'listings', schemaPath: 'subgraphs/listings/schema.graphql', url: 'http://127.0.0.1:4002/graphql' },
  { name: 'stocks', schemaPath: 'subgraphs/stocks/schema.graphql', url: 'http://127.0.0.1:4003/graphql' },
  { name: 'orders', schemaPath: 'subgraphs/orders/schema.graphql', url: 'http://127.0.0.1:4004/graphql' },
  {
    name: 'notifications',
    schemaPath: 'subgraphs/notifications/schema.graphql',
    url: 'http://127.0.0.1:4005/graphql',
  },
] as const;

export type SubgraphName = (typeof subgraphs)[number]['name'];
