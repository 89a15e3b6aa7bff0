import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** The service name, on every line. */
  service: string;
  level?: pino.LevelWithSilent;
}

/** Structured JSON logs on stdout; `npm run dev` pretty-prints them, production ships them as they are. */
export function createLogger({ service, level = 'info' }: LoggerOptions): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', '*.password', '*.secret'], censor: '[redacted]' },
  });
}
