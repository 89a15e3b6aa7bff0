import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/**
 * Distributed tracing with OpenTelemetry: spans for every GraphQL request (gateway and subgraphs),
 * every call between services, and every Kafka message from the service that produced it to the
 * one that handled it, with the W3C trace context carried in HTTP and Kafka headers.
 *
 * Off by default: with no OTLP endpoint configured nothing is registered, every span below is
 * OpenTelemetry's no-op, and nothing is sent anywhere.
 */
export interface Tracing {
  /** Sends the spans buffered so far. */
  flush(): Promise<void>;
  /** Sends the spans still buffered and stops; call last on shutdown. */
  shutdown(): Promise<void>;
}

export function startTracing(service: string, otlpEndpoint: string | undefined): Tracing {
  if (!otlpEndpoint) return { flush: async () => undefined, shutdown: async () => undefined };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: new URL('/v1/traces', otlpEndpoint).toString() })),
    ],
  });
  // Global provider, AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  return { flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

/** Headers as HTTP and Kafka carry them: names to a value (or values) that may be missing. */
export type Carrier = Record<string, string | Buffer | Array<string | Buffer> | undefined>;

const text = (value: string | Buffer) => (Buffer.isBuffer(value) ? value.toString('utf8') : value);

const getter = {
  keys: (carrier: Carrier) => Object.keys(carrier),
  get: (carrier: Carrier, key: string) => {
    const value = carrier[key];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(text) : text(value);
  },
};

function asException(error: unknown): Error | string {
  return error instanceof Error ? error : JSON.stringify(error);
}

/** The trace context a request or message carries in its headers. */
export function extractTraceContext(headers: Carrier | undefined): Context {
  return headers ? propagation.extract(ROOT_CONTEXT, headers, getter) : ROOT_CONTEXT;
}

/**
 * Links to the distinct traces a batch of messages carries (at most `max`): a batch span follows
 * from many producers, so it links to them rather than having one parent.
 */
export function linksFrom(headers: Iterable<Carrier | undefined>, max = 16): Link[] {
  const links = new Map<string, Link>();
  for (const carrier of headers) {
    if (links.size >= max) break;
    const spanContext = trace.getSpanContext(extractTraceContext(carrier));
    if (spanContext && !links.has(spanContext.spanId))
      links.set(spanContext.spanId, { context: spanContext });
  }
  return [...links.values()];
}

/** The current trace context as headers (`traceparent`, `tracestate`); empty when nothing is traced. */
export function traceHeaders(from: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(from, headers);
  return headers;
}

interface SpanOptions {
  kind: SpanKind;
  attributes?: Attributes;
  /** The parent: by default the active context. */
  parent?: Context;
  /** Other spans this one follows from (e.g. the producers of the messages of a batch). */
  links?: Link[];
}

/**
 * Runs `work` inside a new span of the given service, ending the span when it settles and
 * recording a failure as the span's error status.
 */
export async function inSpan<T>(
  service: string,
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = trace
    .getTracer(service)
    .startSpan(name, { kind: options.kind, attributes: options.attributes, links: options.links }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    span.recordException(asException(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

/** A span for one message sent on behalf of `parent`, and the headers that carry it to the consumer. */
export interface MessageSpan {
  headers: Record<string, string>;
  end(error?: unknown): void;
}

export function startProducerSpan(service: string, name: string, parent: Context): MessageSpan {
  return startMessageSpan(service, name, SpanKind.PRODUCER, parent);
}

/**
 * A span for one message handled with others (a batch applied at once): `headers` carry it on to
 * whatever the handling sends, and `end` closes it when the batch is done.
 */
export function startConsumerSpan(service: string, name: string, parent: Context): MessageSpan {
  return startMessageSpan(service, name, SpanKind.CONSUMER, parent);
}

function startMessageSpan(service: string, name: string, kind: SpanKind, parent: Context): MessageSpan {
  const span = trace.getTracer(service).startSpan(name, { kind }, parent);
  return {
    headers: traceHeaders(trace.setSpan(parent, span)),
    end(error?: unknown) {
      if (error !== undefined) {
        span.recordException(asException(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

export { SpanKind };
