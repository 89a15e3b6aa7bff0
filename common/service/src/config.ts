import { z } from 'zod';

/** Thrown at start when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment with a zod schema whose keys are the variable names.
 * Every problem is reported at once, so a misconfigured process fails fast with one readable message.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
    );
  }
  const config = result.data as Record<string, unknown>;
  if (config.NODE_ENV === 'production') {
    const leaked = Object.entries(config).filter(([, value]) => developmentSecrets.has(value as string));
    if (leaked.length > 0) {
      throw new ConfigError(
        leaked.map(([key]) => `${key}: must be set in production (the development default is public)`),
      );
    }
  }
  return result.data;
}

const developmentSecrets = new Set<string>();

/** Marks a default secret as fit for development only: `loadConfig` refuses it in production. */
export function developmentSecret(value: string): string {
  developmentSecrets.add(value);
  return value;
}

function unsetWhenEmpty<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema);
}

/** Reusable pieces for service config schemas. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  host: () => z.string().min(1).default('127.0.0.1'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  nodeEnv: () => z.enum(['development', 'test', 'production']).default('development'),
  url: (fallback: string) => z.url().default(fallback),
  /** A URL that may be left out; empty counts as left out (as `${VAR:-}` in compose files sets it). */
  optionalUrl: () => unsetWhenEmpty(z.url().optional()),
  /** An optional setting for which empty counts as left out (as `${VAR:-}` in compose files sets it). */
  optional: <T extends z.ZodType>(schema: T) => unsetWhenEmpty(schema),
  /**
   * A service's database; by default reached as the role of the same name that owns it
   * (`npm run provision` makes both), never as a superuser.
   */
  postgresUrl: (database: string, role = database) =>
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .default(`postgres://${role}@127.0.0.1:5432/${database}`),
  redisUrl: () =>
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// URL')
      .default('redis://127.0.0.1:6379'),
  kafkaBrokers: () =>
    z
      .string()
      .default('127.0.0.1:9092')
      .transform((value) =>
        value
          .split(',')
          .map((broker) => broker.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'each broker must be host:port')).min(1)),
  milliseconds: (fallback: number) => z.coerce.number().int().min(0).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().min(1).default(fallback),
  nonNegativeInt: (fallback: number) => z.coerce.number().int().min(0).default(fallback),
  boolean: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1'),
};

/** The settings every process has. */
export const baseConfigSchema = z.object({
  NODE_ENV: env.nodeEnv(),
  LOG_LEVEL: env.logLevel(),
  SHUTDOWN_TIMEOUT_MS: env.milliseconds(15_000),
  /** Where to send traces (OTLP over HTTP, e.g. http://jaeger:4318); tracing is off without it. */
  OTEL_EXPORTER_OTLP_ENDPOINT: env.optionalUrl(),
});
export type BaseConfig = z.infer<typeof baseConfigSchema>;
