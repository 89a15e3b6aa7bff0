export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{
    message: string;
    path?: Array<string | number>;
    extensions?: { code?: string; [key: string]: unknown };
  }>;
}

/** Posts one operation and returns the parsed body, whatever the HTTP status. */
export async function graphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** The data of an operation that must succeed; fails the test with the errors otherwise. */
export async function expectData<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<T> {
  const body = await graphql<T>(url, query, variables, headers);
  if (body.errors?.length || !body.data) throw new Error(`unexpected errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** The `extensions.code` of each error of an operation that must fail. */
export async function errorCodes(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const body = await graphql(url, query, variables, headers);
  return (body.errors ?? []).map((error) => error.extensions?.code);
}

/** Sums the samples of one Prometheus metric (optionally only those whose labels contain `labels`). */
export async function metricTotal(metricsUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
