import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root: every path the check names is relative to it. */
export const root = path.resolve(__dirname, '../..');

export function readText(file: string): string | undefined {
  const full = path.resolve(root, file);
  return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
}
