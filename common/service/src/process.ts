import type { Logger } from './logger';

export interface Stoppable {
  stop(): Promise<void>;
  /**
   * Settles when the service can no longer do its work and will not recover by itself (e.g. its
   * Kafka consumer gave up); the process then stops gracefully and exits 1, so that its supervisor
   * starts a fresh one.
   */
  failed?: Promise<Error>;
}

export interface RunOptions {
  logger: Logger;
  /** Starts the service; what it returns is stopped on SIGTERM or SIGINT. */
  start: () => Promise<Stoppable>;
  /** After this long a stop that has not finished is abandoned and the process exits 1. */
  shutdownTimeoutMs: number;
}

/**
 * The process concerns every entry point shares: start, then on SIGTERM/SIGINT stop gracefully
 * within a bounded time; exit 0 after a clean stop, 1 after a failed start, a failed or slow stop,
 * a service that reported it failed, or an error nothing handled.
 */
export function runService({ logger, start, shutdownTimeoutMs }: RunOptions): void {
  let service: Stoppable | undefined;
  let stopping = false;

  const exit = (code: number) => {
    logger.flush();
    // Let pino write its last lines before the process goes.
    setImmediate(() => process.exit(code));
  };

  const shutdown = async (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ shutdownTimeoutMs }, 'graceful shutdown timed out');
      exit(1);
    }, shutdownTimeoutMs);
    timer.unref();
    try {
      await service?.stop();
      clearTimeout(timer);
      logger.info('stopped');
      exit(exitCode);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      exit(1);
    }
  };

  // Listeners stay for the whole shutdown: a second signal (a supervisor that signals the process
  // and its group, or Ctrl-C after SIGTERM) must not fall back to the default action and kill the
  // process mid-drain. The shutdown timeout bounds how long it may take.
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) logger.warn({ signal }, 'already shutting down; signal ignored');
    else void shutdown(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (error) => {
    logger.fatal({ err: error }, 'unhandled promise rejection');
    exit(1);
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    exit(1);
  });

  start().then(
    (started) => {
      service = started;
      void started.failed?.then((error) => {
        logger.fatal({ err: error }, 'the service failed and cannot recover; stopping');
        void shutdown('service failed', 1);
      });
      // A signal that arrived during start is honoured once there is something to stop.
      if (stopping) {
        stopping = false;
        void shutdown('signal during start');
      }
    },
    (error: unknown) => {
      logger.fatal({ err: error }, 'failed to start');
      exit(1);
    },
  );
}

/**
 * Runs stop steps side by side, all of them even when one fails, and rethrows the first failure
 * (in the order given): for steps that wait independently, such as Kafka consumers, each of which
 * waits for its fetch in flight to end.
 */
export async function stopTogether(
  steps: Array<[name: string, stop: () => Promise<unknown>]>,
  logger: Logger,
) {
  const outcomes = await Promise.allSettled(
    steps.map(async ([name, stop]) => {
      try {
        await stop();
        logger.debug({ step: name }, 'stopped');
      } catch (error) {
        logger.error({ err: error, step: name }, 'stop step failed');
        throw error instanceof Error ? error : new Error(`stop step ${name} failed`, { cause: error });
      }
    }),
  );
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
}

/** Runs stop steps in order, all of them even when one fails, and rethrows the first failure. */
export async function stopInOrder(
  steps: Array<[name: string, stop: () => Promise<unknown>]>,
  logger: Logger,
) {
  let firstError: Error | undefined;
  for (const [name, stop] of steps) {
    try {
      await stop();
      logger.debug({ step: name }, 'stopped');
    } catch (error) {
      logger.error({ err: error, step: name }, 'stop step failed');
      firstError ??= error instanceof Error ? error : new Error(`stop step ${name} failed`, { cause: error });
    }
  }
  if (firstError !== undefined)
    throw firstError instanceof Error ? firstError : new Error(String(firstError));
}
