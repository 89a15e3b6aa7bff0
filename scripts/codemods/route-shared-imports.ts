import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// `npx tsx scripts/codemods/route-shared-imports.ts`: points every import of a shared name at the
// package that exports it now. The shared code lives in several packages (the infrastructure
// packages and each owner's `@brokerage/*-contract`); an import from any of them, or from the
// retired `@brokerage/common`, of a name another package exports is split into one import per
// package. Then each workspace's package.json lists exactly the `@brokerage/*` packages its files
// import. Re-run it after a rebase brings in files written against the old layout.

const root = path.resolve(__dirname, '../..');
/** Packages whose names are routed away from once no workspace has them any more. */
const FORMER = ['@brokerage/common'];

interface Workspace {
  name: string;
  dir: string;
  main: string;
}

function workspaces(): Workspace[] {
  const patterns = (
    JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces: string[] }
  ).workspaces;
  const dirs = patterns.flatMap((pattern) => {
    const parts = pattern.split('/');
    let found = [''];
    for (const part of parts) {
      found = found.flatMap((base) =>
        part === '*'
          ? existsSync(path.join(root, base))
            ? readdirSync(path.join(root, base), { withFileTypes: true })
                .filter((entry) => entry.isDirectory())
                .map((entry) => path.join(base, entry.name))
            : []
          : [path.join(base, part)],
      );
    }
    return found.filter((dir) => existsSync(path.join(root, dir, 'package.json')));
  });
  return dirs.map((dir) => {
    const manifest = JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as {
      name: string;
      main: string;
    };
    return { name: manifest.name, dir, main: path.join(root, dir, manifest.main) };
  });
}

/** Shared packages: the workspaces other code imports names from (not the services themselves). */
function sharedPackages(all: Workspace[]): Workspace[] {
  return all.filter(
    (workspace) => workspace.dir.startsWith('common') || workspace.name.endsWith('-contract'),
  );
}

interface Exports {
  /** name -> the shared package whose index exports it. */
  owners: Map<string, string>;
  /** name -> the file of its package that declares (or first re-exports) it: for the package's own files. */
  files: Map<string, string>;
}

function exportedNames(shared: Workspace[]): Exports {
  const modules = shared.flatMap((workspace) => sourceFiles(path.dirname(workspace.main)));
  const program = ts.createProgram(modules, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const exportsOf = (file: string) => {
    const source = program.getSourceFile(file);
    const symbol = source && checker.getSymbolAtLocation(source);
    return symbol ? checker.getExportsOfModule(symbol) : [];
  };
  const files = new Map<string, string>();
  for (const file of modules) {
    if (shared.some((workspace) => workspace.main === file)) continue;
    for (const exported of exportsOf(file)) if (!files.has(exported.name)) files.set(exported.name, file);
  }
  const owners = new Map<string, string>();
  for (const workspace of shared) {
    const exported = exportsOf(workspace.main);
    if (exported.length === 0) throw new Error(`cannot read the exports of ${workspace.name}`);
    for (const exported of exportsOf(workspace.main)) {
      const existing = owners.get(exported.name);
      if (existing && existing !== workspace.name) {
        throw new Error(`${exported.name} is exported by both ${existing} and ${workspace.name}`);
      }
      owners.set(exported.name, workspace.name);
    }
  }
  return { owners, files };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', 'dist', '.git', 'generated', 'coverage', '.kafka'].includes(entry.name)) return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function rewrite(file: string, { owners, files }: Exports, routed: Set<string>, own: string | undefined) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const statement of source.statements) {
    const isImport = ts.isImportDeclaration(statement);
    if (!isImport && !ts.isExportDeclaration(statement)) continue;
    const specifier = statement.moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier) || !routed.has(specifier.text)) continue;
    let typeOnly: boolean;
    let elements: readonly (ts.ImportSpecifier | ts.ExportSpecifier)[];
    if (isImport) {
      const clause = statement.importClause;
      if (!clause?.namedBindings || !ts.isNamedImports(clause.namedBindings) || clause.name) {
        throw new Error(`${file}: only named imports of shared packages can be routed`);
      }
      typeOnly = clause.isTypeOnly;
      elements = clause.namedBindings.elements;
    } else {
      if (!statement.exportClause || !ts.isNamedExports(statement.exportClause)) {
        throw new Error(`${file}: only named re-exports of shared packages can be routed`);
      }
      typeOnly = statement.isTypeOnly;
      elements = statement.exportClause.elements;
    }
    const byPackage = new Map<string, string[]>();
    for (const element of elements) {
      const name = (element.propertyName ?? element.name).text;
      let owner = owners.get(name);
      if (!owner) throw new Error(`${file}: no shared package exports ${name}`);
      if (owner === own) {
        // A package's own files import each other by path, never through their own index.
        const declaring = files.get(name);
        if (!declaring) throw new Error(`${file}: no file of ${own} exports ${name}`);
        const relative = path
          .relative(path.dirname(file), declaring)
          .replace(/\.ts$/, '')
          .replace(/\/index$/, '');
        owner = relative.startsWith('.') ? relative : `./${relative}`;
      }
      const list = byPackage.get(owner) ?? [];
      list.push(element.getText(source));
      byPackage.set(owner, list);
    }
    if (byPackage.size === 1 && byPackage.has(specifier.text)) continue;
    const keyword = isImport ? 'import' : 'export';
    const replacement = [...byPackage.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([pkg, names]) => `${keyword} ${typeOnly ? 'type ' : ''}{ ${names.join(', ')} } from '${pkg}';`)
      .join('\n');
    edits.push({ start: statement.getStart(source), end: statement.getEnd(), text: replacement });
  }
  if (edits.length === 0) return false;
  let result = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  }
  writeFileSync(file, result);
  return true;
}

/** Every `@brokerage/*` package a workspace's files import, as its package.json dependencies. */
function syncDependencies(all: Workspace[]) {
  const names = new Set(all.map((workspace) => workspace.name));
  for (const workspace of all) {
    const manifestPath = path.join(root, workspace.dir, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    const nested = all
      .filter((other) => other !== workspace && other.dir.startsWith(`${workspace.dir}/`))
      .map((other) => path.join(root, other.dir));
    const used = new Set<string>();
    const sources = path.join(root, workspace.dir, 'src');
    for (const file of existsSync(sources) ? sourceFiles(sources) : []) {
      if (nested.some((dir) => file.startsWith(`${dir}/`))) continue;
      for (const match of readFileSync(file, 'utf8').matchAll(/from '(@brokerage\/[^'/]+)'/g)) {
        if (names.has(match[1]!) && match[1] !== workspace.name) used.add(match[1]!);
      }
    }
    const dependencies = Object.fromEntries(
      Object.entries(manifest.dependencies ?? {}).filter(
        ([dependency]) => !dependency.startsWith('@brokerage/'),
      ),
    );
    for (const dependency of used) dependencies[dependency] = '0.1.0';
    manifest.dependencies = Object.fromEntries(
      Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)),
    );
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  }
}

function main() {
  const all = workspaces();
  const retired = FORMER.filter((name) => !all.some((workspace) => workspace.name === name));
  const shared = sharedPackages(all);
  const exported = exportedNames(shared);
  const routed = new Set([...retired, ...shared.map((workspace) => workspace.name)]);
  let changed = 0;
  for (const file of sourceFiles(root)) {
    const own = all.find((workspace) => file.startsWith(path.join(root, workspace.dir, 'src') + '/'))?.name;
    if (rewrite(file, exported, routed, own)) changed += 1;
  }
  syncDependencies(all);
  console.log(`Routed the shared imports of ${changed} files over ${shared.length} packages`);
}

main();
