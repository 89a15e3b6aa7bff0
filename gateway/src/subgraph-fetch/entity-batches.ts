import { headerKey, SubgraphAnswer, type SubgraphCall, type SubgraphFetch } from './subgraph-call';

// An entity fetch as the query planner writes it and the data source serialises it: the
// representations are its only variable, `_entities` its only field. The selection is what follows.
const ENTITIES_QUERY =
  // eslint-disable-next-line security/detect-unsafe-regex -- anchored at both ends with no nested repetition over the same characters: linear in the query's length
  /^query(?: ([_A-Za-z][_0-9A-Za-z]*))?\(\$representations:\[_Any!\]!\)\{_entities\(representations:\$representations\)(\{.*\})\}$/s;

/** An entity fetch's parts. */
interface EntitiesRequest {
  operationName: string | undefined;
  selection: string;
  representations: unknown[];
}

/** An entity fetch waiting in a batch, and how to answer it. */
interface EntitiesCall extends EntitiesRequest {
  resolve: (answer: SubgraphAnswer) => void;
  reject: (error: unknown) => void;
}

/** An entity fetch's parts, or undefined for any other call (which goes as it is). */
function entitiesRequest({ body }: SubgraphCall): EntitiesRequest | undefined {
  if (!body.startsWith('{"query":"query') || !body.includes('_entities(representations:$representations)')) {
    return undefined;
  }
  const request = JSON.parse(body) as {
    query: string;
    variables?: { representations?: unknown };
    operationName?: string;
    extensions?: unknown;
  };
  const match = ENTITIES_QUERY.exec(request.query);
  const representations = request.variables?.representations;
  if (!match || !Array.isArray(representations) || request.extensions !== undefined) return undefined;
  if (Object.keys(request.variables!).length !== 1) return undefined;
  return { operationName: match[1], selection: match[2]!, representations };
}

/** Entity fetches to send together, and how to send a call to their subgraph. */
interface Batch {
  send: SubgraphFetch;
  url: string;
  call: SubgraphCall;
  calls: EntitiesCall[];
}

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ path?: Array<string | number> } & Record<string, unknown>>;
  extensions?: unknown;
}

/**
 * Several entity fetches as one operation, each `_entities` under an alias of its own (`_0`,
 * `_1`...) with its own representations, and the answer split back: each call's data, and the
 * errors on its alias (path renamed back to `_entities`) or on none.
 */
function mergedBody(calls: EntitiesCall[]): string {
  const definitions = calls.map((_, i) => `$r${i}:[_Any!]!`).join(',');
  const fields = calls
    .map(({ selection }, i) => `_${i}:_entities(representations:$r${i})${selection}`)
    .join(' ');
  const name = calls[0]!.operationName;
  return JSON.stringify({
    query: `query${name ? ` ${name}__batch` : ''}(${definitions}){${fields}}`,
    variables: Object.fromEntries(calls.map(({ representations }, i) => [`r${i}`, representations])),
    ...(name ? { operationName: `${name}__batch` } : {}),
  });
}

/**
 * Each call's part of a batch's answer, parsed once: a part goes to its call as objects, with its
 * text beside for any other reader.
 */
function splitAnswer(answer: SubgraphAnswer, count: number): SubgraphAnswer[] {
  let body: GraphQLBody | undefined;
  try {
    body = JSON.parse(answer.body) as GraphQLBody;
  } catch {
    // Not JSON: every call gets it as it is, and its data source reports it.
  }
  if (!body || typeof body !== 'object' || !answer.ok) {
    return Array.from({ length: count }, () => answer);
  }
  return Array.from({ length: count }, (_, i) => {
    const alias = `_${i}`;
    const errors = body.errors
      ?.filter(({ path }) => path === undefined || path[0] === alias)
      .map((error) => (error.path ? { ...error, path: ['_entities', ...error.path.slice(1)] } : error));
    const part: GraphQLBody = {
      data: body.data ? { _entities: body.data[alias] ?? null } : body.data,
      ...(errors && errors.length > 0 ? { errors } : {}),
      ...(body.extensions !== undefined ? { extensions: body.extensions } : {}),
    };
    return new SubgraphAnswer(answer.status, answer.headers, JSON.stringify(part), part);
  });
}

/**
 * Entity fetches that a query plan runs in parallel on one subgraph (the stocks of a user's
 * holdings and of their orders, say) start in the same turn of the event loop with the same
 * headers (caller and request id): they go as one operation, one HTTP call, which the subgraph
 * parses, validates and resolves once, its loaders batching the entities of both. The calls are
 * collected until the loop's next turn (`setImmediate`), for all subgraphs at once; a call alone
 * goes as it was.
 */
export class EntityBatches {
  /** Entity fetches waiting for the loop's next turn, by subgraph, URL and headers. */
  private readonly waiting = new Map<string, Batch>();

  /**
   * How one subgraph's calls go: an entity fetch waits for its batch, any other call is sent at
   * once with `send`.
   */
  sender(subgraph: string, send: SubgraphFetch): SubgraphFetch {
    return (url, call) => {
      const entities = entitiesRequest(call);
      if (!entities) return send(url, call);
      return this.join(`${subgraph}\n${url}\n${headerKey(call.headers)}`, entities, send, url, call);
    };
  }

  /** The entity fetch's answer, once its batch (under `key`) has been sent and answered. */
  private join(
    key: string,
    entities: EntitiesRequest,
    send: SubgraphFetch,
    url: string,
    call: SubgraphCall,
  ): Promise<SubgraphAnswer> {
    return new Promise<SubgraphAnswer>((resolve, reject) => {
      const batch = this.waiting.get(key);
      if (batch) batch.calls.push({ ...entities, resolve, reject });
      else this.waiting.set(key, { send, url, call, calls: [{ ...entities, resolve, reject }] });
      if (this.waiting.size === 1 && !batch) setImmediate(this.flush);
    });
  }

  /** Sends every waiting batch: a call alone as it was, several as one operation. */
  private readonly flush = (): void => {
    const pending = [...this.waiting.values()];
    this.waiting.clear();
    for (const { send, url, call, calls } of pending) {
      if (calls.length === 1) {
        send(url, call).then(calls[0]!.resolve, calls[0]!.reject);
        continue;
      }
      // One call speaks for all.
      send(url, { headers: call.headers, body: mergedBody(calls) }).then(
        (answer) => splitAnswer(answer, calls.length).forEach((part, i) => calls[i]!.resolve(part)),
        (error: unknown) => calls.forEach(({ reject }) => reject(error)),
      );
    }
  };
}
