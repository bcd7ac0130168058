// Bundles the provider into one CommonJS file that runs with plain `node` and needs no
// node_modules. CommonJS because Node's single-executable builder only accepts a CommonJS main.
//
// The kubelet's common case is a cache hit, and V8 parses every byte of a script before
// running it: a ~900 KB bundle costs ~25 ms of parsing on every call, more than Node's own
// start-up. So code the hit path does not need lives in `src/lazy*.ts` entry modules, and:
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

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as { version: string };
const outfile = `${root}dist/aliyun-acr-credential-provider.cjs`;
const LAZY_MODULE = /^lazy(-[a-z]+)?\.ts$/;
const SHARED_PREFIX = 'shared:';

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

/** Keeps imports of hit-path modules external (`shared:<path>`) in a lazy module. */
function shareHitPathModules(hitPath: Set<string>): Plugin {
  return {
    name: 'share-hit-path-modules',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData === 'resolving') return undefined;
        const resolved = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: 'resolving' });
        // Anything else: let esbuild resolve it itself, which keeps package.json "type"
        // (Node's CommonJS interop rules) that a plugin-returned path would lose.
        return hitPath.has(relative(root, resolved.path)) ? { path: `${SHARED_PREFIX}${relative(root, resolved.path)}`, external: true } : undefined;
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

/** Pass 2 for one lazy module: its code, the hit-path modules it needs, and a loader for it. */
async function lazyLoader(name: string, hitPath: Set<string>): Promise<string> {
  const entry = `src/${name}`;
  const result = await build({
    ...common,
    entryPoints: [entry],
    write: false,
    metafile: true,
    plugins: [shareHitPathModules(hitPath)],
    // yargs 18 is ESM-only and calls createRequire(import.meta.url): give it the file's own URL.
    define: { ...common.define, 'import.meta.url': '__lazyImportMetaUrl' },
    banner: { js: "const __lazyImportMetaUrl=require('node:url').pathToFileURL(__filename).href;" },
  });
  const code = result.outputFiles[0]!.text;
  const shared = [...new Set(Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && i.path.startsWith(SHARED_PREFIX)).map((i) => i.path.slice(SHARED_PREFIX.length))))];
  const packed = brotliCompressSync(code, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64');
  return [
    ...shared.map((p, i) => `import * as shared${i} from ${JSON.stringify(`./${p}`)};`),
    `const shared = {${shared.map((p, i) => `${JSON.stringify(p)}: shared${i}`).join(',')}};`,
    // A short base64 literal is much cheaper for V8 to scan on every start than the code itself.
    `const packed = ${JSON.stringify(packed)};`,
    'let loaded;',
    'function load() {',
    '  if (loaded) return loaded;',
    '  const module = { exports: {} };',
    // Builtins are fetched here, not imported at the top: loading them costs start-up time.
    "  const source = process.getBuiltinModule('node:zlib').brotliDecompressSync(Buffer.from(packed, 'base64')).toString('utf8');",
    `  const run = process.getBuiltinModule('node:vm').compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: __filename + '#${name}' });`,
    `  run(module.exports, (id) => id.startsWith(${JSON.stringify(SHARED_PREFIX)}) ? shared[id.slice(${SHARED_PREFIX.length})] : require(id), module, __filename, __dirname);`,
    '  return (loaded = module.exports);',
    '}',
    ...(await exportNames(entry)).map((e) => `export function ${e}(...args) { return load().${e}(...args); }`),
  ].join('\n');
}

// Pass 1: which of our modules does the hit path use?
const pass1 = await build({ ...common, entryPoints: ['src/main.ts'], write: false, metafile: true, plugins: [replaceLazyModules(() => 'export {};')] });
const hitPath = new Set(Object.keys(pass1.metafile.inputs).filter((p) => p.startsWith('src/')));

// Pass 2: each lazy module, sharing those modules.
const loaders = new Map<string, string>();
for (const name of lazyModules) loaders.set(name, await lazyLoader(name, hitPath));

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
