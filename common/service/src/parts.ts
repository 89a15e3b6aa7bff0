import type { ReadinessCheck } from './health';
import type { Logger } from './logger';
import { stopInOrder } from './process';

/**
 * One piece of a service with a lifetime: a client, a consumer loop, a timer, an HTTP server.
 * Parts start in the order they are listed and stop in the reverse order, so a part can rely on
 * those listed before it.
 */
export interface ServicePart {
  /** Names the part in the stop log. */
  name: string;
  start?(): Promise<unknown>;
  stop?(): Promise<unknown>;
  /** Checks this part adds to `/ready`. */
  ready?: Record<string, ReadinessCheck>;
  /** Settles if the part can no longer work and will not recover (e.g. its Kafka consumer gave up). */
  failed?: Promise<Error>;
}

export type StopStep = [name: string, stop: () => Promise<unknown>];

/** Starts parts in order and knows which have started, so that only those are stopped, in reverse. */
export class StartedParts {
  private readonly started: ServicePart[] = [];

  constructor(private readonly logger: Logger) {}

  /** Starts the parts one after the other; if one fails, those started are stopped and the error rethrown. */
  async start(parts: ServicePart[]): Promise<void> {
    try {
      for (const part of parts) {
        await part.start?.();
        this.started.push(part);
      }
    } catch (error) {
      await stopInOrder(this.stopSteps(), this.logger).catch(() => undefined);
      throw error;
    }
  }

  /** The stop steps of the started parts, last started first; taken out, so none is stopped twice. */
  stopSteps(): StopStep[] {
    return this.started
      .splice(0)
      .reverse()
      .map((part): StopStep => [part.name, async () => part.stop?.()]);
  }
}

/** The `/ready` checks of all the parts. */
export function readinessOf(parts: ServicePart[]): Record<string, ReadinessCheck> {
  return Object.assign({}, ...parts.map(({ ready }) => ready ?? {})) as Record<string, ReadinessCheck>;
}

/** Settles with the first part that fails for good; undefined when no part can. */
export function failureOf(parts: ServicePart[]): Promise<Error> | undefined {
  const failures = parts.flatMap(({ failed }) => (failed ? [failed] : []));
  return failures.length > 0 ? Promise.race(failures) : undefined;
}
