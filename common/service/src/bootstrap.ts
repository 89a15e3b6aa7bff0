import type { z } from 'zod';
import { ConfigError, loadConfig, type BaseConfig } from './config';
import { createLogger, type Logger } from './logger';
import { runService, type Stoppable } from './process';
import { startTracing } from './tracing';

/**
 * What every entry point (`index.ts`) does: validate the environment (exit 2 with every problem
 * listed), create the logger, start the service and stop it gracefully on SIGTERM or SIGINT.
 */
export function bootstrap<S extends z.ZodType<BaseConfig>>(
  service: string,
  schema: S,
  start: (config: z.infer<S>, logger: Logger) => Promise<Stoppable>,
): void {
  let config: z.infer<S>;
  try {
    config = loadConfig(schema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger({ service, level: config.LOG_LEVEL });
  const tracing = startTracing(service, config.OTEL_EXPORTER_OTLP_ENDPOINT);
  runService({
    logger,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    start: async () => {
      const running = await start(config, logger);
      return {
        failed: running.failed,
        async stop() {
          await running.stop();
          // Last, so that the spans of the shutdown itself are sent too.
          await tracing.shutdown();
        },
      };
    },
  });
}
