import type { z } from 'zod';

/** A message value as JSON bytes: what the contracts' schemas parse back. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Parses a JSON message value with a schema; throws on anything else. */
export function decodeJson<T>(schema: z.ZodType<T>, value: Buffer | null): T {
  if (!value) throw new Error('empty message');
  return schema.parse(JSON.parse(value.toString('utf8')));
}
