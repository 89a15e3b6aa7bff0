import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Image } from '../dockerfile';
import { readText, root } from './repository-files';
import { PROCESS_ENTRY } from './service-configs';

/** Whether the Dockerfile's final stage copies this file in. */
export function imageHas(image: Image, file: string): boolean {
  return [...image.paths].some((copied) => file === copied || file.startsWith(`${copied}/`));
}

/** Whether `npm run build` (scripts/build.ts) writes this file. */
export function builtByNpmRunBuild(entry: string): boolean {
  const service = /^((?:gateway)|(?:subgraphs|workers)\/[^/]+)\/dist\/index\.js$/.exec(entry);
  if (service) return existsSync(path.join(root, service[1]!, 'src/index.ts'));
  // A further process of a package (`<package>/dist/<process>/index.js`), listed in scripts/build.ts.
  const packageProcess = PROCESS_ENTRY.exec(entry);
  if (packageProcess)
    return (
      existsSync(path.join(root, packageProcess[1]!, 'src', packageProcess[2]!, 'index.ts')) &&
      (readText('scripts/build.ts') ?? '').includes(`'${entry}'`)
    );
  const script = /^scripts\/dist\/([\w-]+)\.js$/.exec(entry);
  return (
    script !== null &&
    existsSync(path.join(root, 'scripts', `${script[1]}.ts`)) &&
    (readText('scripts/build.ts') ?? '').includes(`'${entry}'`)
  );
}
