/** One POST of a GraphQL operation to a subgraph: its headers (lower-case names) and JSON body. */
export interface SubgraphCall {
  headers: Record<string, string>;
  body: string;
}

/** Response headers as undici's `request` gives them: lower-case names, a repeated one as an array. */
export type AnswerHeaders = Record<string, string | string[] | undefined>;

/** A 2xx status. */
const succeeded = (status: number): boolean => status >= 200 && status < 300;

/**
 * A subgraph's answer, read in full. A batch's part is handed over already parsed (its call is
 * the only one that reads it first); any other reader parses the text, so no two calls ever hold
 * the same objects (the gateway merges into what it is given).
 */
export class SubgraphAnswer {
  private parsed: unknown;

  constructor(
    readonly status: number,
    readonly headers: AnswerHeaders,
    readonly body: string,
    parsed?: unknown,
  ) {
    this.parsed = parsed;
  }

  get ok(): boolean {
    return succeeded(this.status);
  }

  /** A header's value, repeated values joined as fetch's `Headers.get` joins them. */
  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** The body as JSON: objects of this call's own. */
  json(): unknown {
    const parsed = this.parsed;
    if (parsed === undefined) return JSON.parse(this.body) as unknown;
    this.parsed = undefined;
    return parsed;
  }
}

/** How the gateway's data sources call one subgraph. */
export type SubgraphFetch = (url: string, call: SubgraphCall) => Promise<SubgraphAnswer>;

/** A call's headers as one string, in a fixed order, without the one named `except`. */
export function headerKey(headers: Record<string, string>, except?: string): string {
  return Object.keys(headers)
    .filter((name) => name !== except)
    .sort()
    .map((name) => `${name}:${headers[name]}`)
    .join('\n');
}
