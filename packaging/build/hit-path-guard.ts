// What the kubelet's cache-hit path must never contain. Every module in the hit path is parsed on
// every call (V8 parses a whole script before running it), so one stray static import of a cloud
// SDK or the CLI library would quietly cost tens of milliseconds per pull. The bundler checks the
// hit path's module graph against this list and fails the build, naming the import chain.
import type { Metafile } from 'esbuild';

export const FORBIDDEN_ON_HIT_PATH: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /(^|\/)node_modules\/@alicloud\//, what: 'an Alibaba Cloud SDK' },
  { pattern: /(^|\/)node_modules\/(yargs|yargs-parser)\//, what: 'the yargs CLI' },
  { pattern: /(^|\/)node_modules\/yaml\//, what: 'the YAML parser' },
  { pattern: /^src\/install\//, what: 'the installer' },
  { pattern: /^src\/doctor\//, what: 'doctor' },
];

/**
 * One line per forbidden kind of module in the graph: what it is, the shortest import chain that
 * reaches it, and how many of its files came along.
 */
export function hitPathViolations(inputs: Metafile['inputs'], entry: string): string[] {
  const parentOf = importTree(inputs, entry);
  return FORBIDDEN_ON_HIT_PATH.flatMap((rule) => {
    const hits = [...parentOf.keys()].filter((path) => rule.pattern.test(path));
    if (hits.length === 0) return [];
    const chain: string[] = [];
    for (let p: string | undefined = hits[0]; p !== undefined; p = parentOf.get(p)) chain.unshift(p);
    return [`${rule.what} is on the cache-hit path (${hits.length} files): ${chain.join(' -> ')}`];
  });
}

/**
 * Breadth-first over the imports from the entry: each module in the bundle and who imported it.
 * Dynamic imports count too: esbuild inlines them, so their code is parsed on every call as well
 * (only the src/lazy*.ts modules are kept out, compressed, and they are stubbed in this graph).
 */
function importTree(inputs: Metafile['inputs'], entry: string): Map<string, string | undefined> {
  const parentOf = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const imported of inputs[next]?.imports ?? []) {
      if (imported.external || parentOf.has(imported.path)) continue;
      parentOf.set(imported.path, next);
      queue.push(imported.path);
    }
  }
  return parentOf;
}
