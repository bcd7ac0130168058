// Bundles the provider into one CommonJS file that runs with plain `node` and needs no
// node_modules. CommonJS because Node's single-executable builder only accepts a CommonJS main.
//
// The kubelet's common case is a cache hit, and V8 parses every byte of a script before
// running it: a ~900 KB bundle costs ~25 ms of parsing on every call, more than Node's own
// start-up. So code the hit path does not need lives in `src/lazy-*.ts` entry modules (one per
// purpose: the miss path, the full CLI, counter compaction, the YAML parser), and:
//   1. the hit path is bundled alone (lazy modules stubbed) to learn which of our modules it uses;
//   2. each lazy module is bundled as a separate CommonJS module in which imports of hit-path
//      modules stay external, so both parts share one instance of each (errors, logger, ...);
//   3. the hit path is bundled again, each lazy module replaced by a small loader holding its
//      code as a brotli+base64 string, decompressed and compiled (vm) on first use.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { chmod, readdir, readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { hitPathViolations } from './hit-path-guard.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as { version: string };
const outfile = `${root}dist/aliyun-acr-credential-provider.cjs`;
const LAZY_MODULE = /^lazy(-[a-z]+)?\.ts$/;
const SHARED_PREFIX = 'shared:';
const LAZY_PREFIX = 'lazy:';

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: process.env.BUNDLE_NO_MINIFY !== '1',
  logLevel: 'warning',
  define: { __PROVIDER_VERSION__: JSON.stringify(pkg.version) },
};

const lazyModules = (await readdir(`${root}src`)).filter((f) => LAZY_MODULE.test(f));

/** Routes imports of src/lazy*.ts to virtual modules with the given contents. */
function replaceLazyModules(contents: (name: string) => string): Plugin {
  return {
    name: 'replace-lazy-modules',
    setup(b) {
      b.onResolve({ filter: /(^|\/)lazy(-[a-z]+)?\.ts$/ }, (args) => ({ path: args.path.split('/').pop()!, namespace: 'lazy-module' }));
      b.onLoad({ filter: /.*/, namespace: 'lazy-module' }, (args) => ({ contents: contents(args.path), loader: 'js', resolveDir: root }));
    },
  };
}

/**
 * In a lazy module's build: imports of hit-path modules stay external (`shared:<path>`), and so do
 * imports of modules another lazy module carries (`lazy:<name>:<path>`), so that the doctor in the
 * CLI and the miss path share one copy of the cloud code. Relative imports only: packages keep
 * esbuild's own resolution, which keeps package.json "type" (Node's CommonJS interop rules) that
 * a plugin-returned path would lose.
 */
function shareModules(hitPath: Set<string>, owner: Map<string, string>, self: string): Plugin {
  return {
    name: 'share-modules',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData === 'resolving') return undefined;
        const resolved = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: 'resolving' });
        const path = relative(root, resolved.path);
        if (hitPath.has(path)) return { path: `${SHARED_PREFIX}${path}`, external: true };
        const carrier = owner.get(path);
        return carrier !== undefined && carrier !== self ? { path: `${LAZY_PREFIX}${carrier}:${path}`, external: true } : undefined;
      });
    },
  };
}

async function exportNames(entry: string): Promise<string[]> {
  // The metafile lists export names only for ESM output: ask esbuild about the entry itself.
  const shape = await build({ absWorkingDir: root, entryPoints: [entry], bundle: false, format: 'esm', write: false, metafile: true, logLevel: 'warning' });
  const names = Object.values(shape.metafile.outputs)[0]!.exports;
  if (names.length === 0) throw new Error(`${entry} exports nothing`);
  return names;
}

const lazyBuild = (entry: BuildOptions, plugins: Plugin[]) =>
  build({
    ...common,
    ...entry,
    write: false,
    metafile: true,
    plugins,
    // The code runs under vm.compileFunction, which has no import(): dynamic imports of shared
    // modules become require() calls into the linker below.
    supported: { 'dynamic-import': false },
    // yargs 18 is ESM-only and calls createRequire(import.meta.url): give it the file's own URL.
    define: { ...common.define, 'import.meta.url': '__lazyImportMetaUrl' },
    banner: { js: "const __lazyImportMetaUrl=require('node:url').pathToFileURL(__filename).href;" },
  });

/** Our modules in a lazy module's graph that are not on the hit path, and what each imports. */
async function lazyGraph(name: string, hitPath: Set<string>): Promise<Map<string, string[]>> {
  const result = await lazyBuild({ entryPoints: [`src/${name}`] }, [shareModules(hitPath, new Map(), name)]);
  const ours = Object.entries(result.metafile.inputs).filter(([p]) => p.startsWith('src/'));
  return new Map(ours.map(([p, input]) => [p, input.imports.map((i) => i.path).filter((i) => i.startsWith('src/'))]));
}

/**
 * Pass 2 for one lazy module: its code, with the modules it carries for later lazy modules
 * exported as `__lazyShared`, and a loader that links it to the hit path and to earlier ones.
 */
async function lazyLoader(name: string, hitPath: Set<string>, owner: Map<string, string>, sharedOut: string[]): Promise<string> {
  const entry = `src/${name}`;
  const contents = [
    `export * from ${JSON.stringify(`./${entry}`)};`,
    ...sharedOut.map((p, i) => `import * as out${i} from ${JSON.stringify(`./${p}`)};`),
    `export const __lazyShared = {${sharedOut.map((p, i) => `${JSON.stringify(p)}: out${i}`).join(',')}};`,
  ].join('\n');
  const result = await lazyBuild({ stdin: { contents, resolveDir: root, sourcefile: `${entry}#entry`, loader: 'ts' } }, [shareModules(hitPath, owner, name)]);
  const code = result.outputFiles[0]!.text;
  const externals = [...new Set(Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)))];
  const shared = externals.filter((p) => p.startsWith(SHARED_PREFIX)).map((p) => p.slice(SHARED_PREFIX.length));
  const carriers = [...new Set(externals.filter((p) => p.startsWith(LAZY_PREFIX)).map((p) => p.split(':')[1]!))];
  const packed = brotliCompressSync(code, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64');
  return [
    ...shared.map((p, i) => `import * as shared${i} from ${JSON.stringify(`./${p}`)};`),
    ...carriers.map((c, i) => `import * as carrier${i} from ${JSON.stringify(`./src/${c}`)};`),
    `const shared = {${shared.map((p, i) => `${JSON.stringify(p)}: shared${i}`).join(',')}};`,
    `const carriers = {${carriers.map((c, i) => `${JSON.stringify(c)}: carrier${i}`).join(',')}};`,
    // A short base64 literal is much cheaper for V8 to scan on every start than the code itself.
    `const packed = ${JSON.stringify(packed)};`,
    'let loaded;',
    'function load() {',
    '  if (loaded) return loaded;',
    '  const module = { exports: {} };',
    // Builtins are fetched here, not imported at the top: loading them costs start-up time.
    "  const source = process.getBuiltinModule('node:zlib').brotliDecompressSync(Buffer.from(packed, 'base64')).toString('utf8');",
    `  const run = process.getBuiltinModule('node:vm').compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: __filename + '#${name}' });`,
    '  const link = (id) => {',
    `    if (id.startsWith(${JSON.stringify(SHARED_PREFIX)})) return shared[id.slice(${SHARED_PREFIX.length})];`,
    `    if (id.startsWith(${JSON.stringify(LAZY_PREFIX)})) { const [, carrier, path] = id.split(':'); return carriers[carrier].__lazyShared()[path]; }`,
    '    return require(id);',
    '  };',
    '  run(module.exports, link, module, __filename, __dirname);',
    '  return (loaded = module.exports);',
    '}',
    ...(await exportNames(entry)).map((e) => `export function ${e}(...args) { return load().${e}(...args); }`),
    'export function __lazyShared() { return load().__lazyShared; }',
  ].join('\n');
}

// Pass 1: which of our modules does the hit path use?
const pass1 = await build({ ...common, entryPoints: ['src/main.ts'], write: false, metafile: true, plugins: [replaceLazyModules(() => 'export {};')] });
const hitPath = new Set(Object.keys(pass1.metafile.inputs).filter((p) => p.startsWith('src/')));
const violations = hitPathViolations(pass1.metafile.inputs, 'src/main.ts');
if (violations.length > 0) {
  for (const v of violations) console.error(`bundle: ${v}`);
  console.error('bundle: reach it through a src/lazy-*.ts module, which the hit path imports dynamically (see packaging/build/hit-path-guard.ts)');
  process.exit(1);
}

// Pass 2: each lazy module, sharing the hit path's modules and each other's. Smaller ones first:
// a module in several lazy graphs is carried by the first (its imports are then carried by it or
// by an earlier one, so carriers never form a cycle), and later ones import it from there.
const graphs = new Map<string, Map<string, string[]>>();
for (const name of lazyModules) graphs.set(name, await lazyGraph(name, hitPath));
const order = [...lazyModules].sort((a, b) => graphs.get(a)!.size - graphs.get(b)!.size);
const owner = new Map<string, string>();
for (const name of order) for (const p of graphs.get(name)!.keys()) if (!owner.has(p)) owner.set(p, name);
const sharedOut = new Map<string, Set<string>>(order.map((n) => [n, new Set()]));
for (const name of order) {
  for (const [p, imports] of graphs.get(name)!) {
    if (owner.get(p) !== name) continue;
    for (const i of imports) if (owner.has(i) && owner.get(i) !== name) sharedOut.get(owner.get(i)!)!.add(i);
  }
}
const loaders = new Map<string, string>();
for (const name of order) loaders.set(name, await lazyLoader(name, hitPath, owner, [...sharedOut.get(name)!].sort()));

// Pass 3: the hit path with the lazy modules embedded.
await build({
  ...common,
  entryPoints: ['src/main.ts'],
  outfile,
  legalComments: 'linked',
  banner: { js: '#!/usr/bin/env node' },
  plugins: [replaceLazyModules((name) => loaders.get(name) ?? 'export {};')],
});
await chmod(outfile, 0o755);
