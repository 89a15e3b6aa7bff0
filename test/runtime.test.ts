import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageNodeMajors } from '../scripts/dockerfile';

// The project runs on the Node.js it pins as a dev dependency (package.json `node`), which
// `npm run`/`npx` put first on PATH: tests, benchmarks and `npm run dev` then run on the release
// the image ships, whatever Node.js the machine has.
const root = path.resolve(__dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const pinned = manifest.devDependencies['node']!;
const major = (version: string) => Number(/^v?(\d+)\./.exec(version)?.[1]);

describe('Node.js runtime', () => {
  it('pins one exact Node.js release as a dev dependency', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs the tests on the pinned release', () => {
    console.log(`jest worker: Node.js ${process.version} (${process.execPath})`);
    expect(process.version).toBe(`v${pinned}`);
  });

  it('runs child processes on the pinned release, as the test support and tsx start them', () => {
    // test/support/processes.ts starts services with process.execPath; scripts and benchmarks
    // start through tsx, whose `#!/usr/bin/env node` finds the node that npm puts first on PATH.
    const child = execFileSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
    const viaTsx = execFileSync(
      path.join(root, 'node_modules/.bin/tsx'),
      ['-e', 'console.log(process.version)'],
      {
        encoding: 'utf8',
      },
    ).trim();
    expect([child, viaTsx]).toEqual([`v${pinned}`, `v${pinned}`]);
  });

  it('builds the image on the same major, which engines and @types/node name', () => {
    expect(imageNodeMajors()).toEqual([major(pinned)]);
    expect(manifest.engines.node).toBe(`>=${major(pinned)}`);
    expect(major(manifest.devDependencies['@types/node']!.replace(/^\D+/, ''))).toBe(major(pinned));
  });
});
