import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/**
 * Runs a fixture entry point as its own process; resolves with its exit code and output.
 * `onOutput` sees the output as it arrives, with the child (to signal it).
 */
function runFixture(
  name: string,
  onOutput?: (output: string, child: ChildProcess) => void,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', name)], {
      env: { ...process.env, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const heard = (chunk: Buffer) => {
      output += chunk.toString();
      onOutput?.(output, child);
    };
    child.stdout.on('data', heard);
    child.stderr.on('data', heard);
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

  it('finishes its graceful stop when a second signal arrives during it', async () => {
    let signalled = false;
    const { code, output } = await runFixture('slow-stop-service.ts', (sofar, child) => {
      if (signalled || !sofar.includes('STARTED')) return;
      signalled = true;
      // A supervisor signalling the process and its group, or Ctrl-C after SIGTERM: the second
      // signal comes while the first one's stop is still draining.
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGINT'), 100);
      setTimeout(() => child.kill('SIGTERM'), 200);
    });
    expect(code).toBe(0);
    expect(output).toContain('STOPPED CLEANLY');
    expect(output).toContain('already shutting down');
  });
});
