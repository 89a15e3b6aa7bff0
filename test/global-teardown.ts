import { execFileSync } from 'node:child_process';
import path from 'node:path';

// Stops the broker only when this test run started it (and nobody asked to keep it for the next run).
export default function globalTeardown() {
  if (process.env.TEST_STARTED_KAFKA === '1' && process.env.KEEP_KAFKA !== '1') {
    execFileSync('bash', [path.resolve(__dirname, '../scripts/kafka.sh'), 'stop'], { stdio: 'inherit' });
  }
}
