// Bundles src/main.ts into one CommonJS file that runs with plain `node` and needs no node_modules.
// CommonJS because Node's single-executable builder (packaging issue) only accepts a CommonJS main.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as { version: string };
export const bundlePath = `${root}dist/aliyun-acr-credential-provider.cjs`;

await build({
  entryPoints: [`${root}src/main.ts`],
  outfile: bundlePath,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: true,
  legalComments: 'linked',
  logLevel: 'warning',
  banner: {
    // yargs 18 is ESM-only and calls createRequire(import.meta.url); in a CommonJS bundle
    // import.meta is empty, so hand it the bundle's own URL instead.
    js: "#!/usr/bin/env node\nconst __bundleImportMetaUrl=require('node:url').pathToFileURL(__filename).href;",
  },
  define: {
    'import.meta.url': '__bundleImportMetaUrl',
    __PROVIDER_VERSION__: JSON.stringify(pkg.version),
  },
});
await chmod(bundlePath, 0o755);
