import { REQUEST_ID_HEADER } from '@brokerage/graphql';
import { headerKey, type SubgraphAnswer, type SubgraphCall } from './subgraph-call';

// Only read operations are shared: the query planner writes them as `query ...` or `{...}`, and
// the data source serialises `query` first. Anything else (a mutation) goes alone.
const READ_OPERATION = /^\{"query":"(?:query\b|\{)/;

/**
 * What makes two subgraph calls the same call: URL, body and every header but the request id
 * (which only labels logs). The caller token is a header, so calls of different callers are
 * never shared: no answer crosses from one user to another. (Trace headers are added later, per
 * HTTP call, and are not part of it either.) Undefined for a call that is not a read, which is
 * never shared.
 */
export function sharingKey(url: string, { headers, body }: SubgraphCall): string | undefined {
  if (!READ_OPERATION.test(body)) return undefined;
  return `${url}\n${headerKey(headers, REQUEST_ID_HEADER)}\n${body}`;
}

/**
 * The answers of read calls in flight, by sharing key, so that an identical call starting
 * meanwhile joins the HTTP call already made. This is not a cache: an answer is forgotten as soon
 * as it settles.
 */
export class InFlightReads {
  private readonly answers = new Map<string, Promise<SubgraphAnswer>>();

  /** The answer of the identical call in flight, if there is one. */
  joinable(key: string): Promise<SubgraphAnswer> | undefined {
    return this.answers.get(key);
  }

  /** Offers the answer to identical calls until it settles. */
  track(key: string, answer: Promise<SubgraphAnswer>): void {
    this.answers.set(key, answer);
    const forget = () => this.answers.delete(key);
    answer.then(forget, forget);
  }
}
