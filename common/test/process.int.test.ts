import { spawn } from 'node:child_process';
import path from 'node:path';

/** Runs a fixture entry point as its own process; resolves with its exit code and output. */
function runFixture(name: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', name)], {
      env: { ...process.env, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('a service process', () => {
  it('stops gracefully and exits 1 when its service reports it failed', async () => {
    const { code, output } = await runFixture('failing-service.ts');
    // Exit 1 so that the supervisor (Kubernetes, compose) starts a fresh process.
    expect(code).toBe(1);
    expect(output).toContain('STOPPED CLEANLY');
    expect(output).toContain('consumer gave up');
  });
});
