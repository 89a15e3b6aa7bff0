import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';

export interface OperationDocumentsOptions {
  /** Parsing stops past this many tokens, as over HTTP (`MAX_TOKENS`). */
  maxTokens: number;
  /** Rules beyond the specification's: the gateway's operation limits. */
  rules: readonly ValidationRule[];
  /** Distinct operation texts kept; the least recently used goes first. */
  capacity?: number;
}

/** Rejected operations answer with the codes Apollo Server gives the same errors over HTTP. */
function coded(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    originalError: error.originalError ?? error,
    extensions: { ...error.extensions, code },
  });
}

/**
 * Operations sent over WebSocket, parsed and validated once per distinct text (and schema), as
 * Apollo Server's document store does for HTTP. Clients open subscriptions with the same few
 * operations; parsing and validating each one's own copy was most of what opening a subscription
 * allocated. A document is shared by every subscription of its text: graphql-js never changes a
 * document, nor does the gateway (it builds new nodes around the client's).
 */
export class OperationDocuments {
  /** By text, least recently used first (a Map keeps insertion order). */
  private readonly documents = new Map<string, DocumentNode>();
  /** Per schema, so a new supergraph validates again; entries go with their document. */
  private readonly validations = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly GraphQLError[]>>();
  private readonly rules: readonly ValidationRule[];
  private readonly capacity: number;

  constructor(private readonly options: OperationDocumentsOptions) {
    this.rules = [...specifiedRules, ...options.rules];
    this.capacity = options.capacity ?? 1_000;
  }

  /** The operation's document, valid against `schema`, or the errors that refuse it. */
  prepare(schema: GraphQLSchema, query: string): DocumentNode | readonly GraphQLError[] {
    const document = this.parsed(query);
    if (!('kind' in document)) return document;
    let validations = this.validations.get(schema);
    if (!validations) {
      validations = new WeakMap();
      this.validations.set(schema, validations);
    }
    let errors = validations.get(document);
    if (!errors) {
      errors = validate(schema, document, this.rules).map((error) =>
        coded(error, 'GRAPHQL_VALIDATION_FAILED'),
      );
      validations.set(document, errors);
    }
    return errors.length > 0 ? errors : document;
  }

  private parsed(query: string): DocumentNode | readonly GraphQLError[] {
    const known = this.documents.get(query);
    if (known) {
      this.documents.delete(query);
      this.documents.set(query, known);
      return known;
    }
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: this.options.maxTokens });
    } catch (error) {
      // Not kept: a text that does not parse is the client's to fix, and no one shares it.
      if (error instanceof GraphQLError) return [coded(error, 'GRAPHQL_PARSE_FAILED')];
      throw error;
    }
    this.documents.set(query, document);
    if (this.documents.size > this.capacity) this.documents.delete(this.documents.keys().next().value!);
    return document;
  }
}
