// What an ELF file asks of the system, read with binutils' readelf: its machine, its program
// interpreter (the dynamic loader) and its NEEDED shared libraries.
import { run } from './debian.ts';

function readelf(args: string[], file: string): string {
  return run('readelf', ['-W', ...args, file]);
}

export function elfMachine(file: string): string {
  return /Machine:\s+(.+)/.exec(readelf(['-h'], file))?.[1]?.trim() ?? '';
}

export function interpreterOf(file: string): string | undefined {
  return /Requesting program interpreter: ([^\]]+)\]/.exec(readelf(['-l'], file))?.[1];
}

export function neededOf(file: string): string[] {
  return [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

/**
 * The shared libraries `roots` need, transitively (ELF NEEDED), as soname -> file: `find` gives
 * the file for a soname (or undefined when none provides it). `skip` holds sonames not to follow
 * (the loader, which libc names as NEEDED).
 */
export function neededClosure(roots: readonly string[], find: (soname: string) => string | undefined, skip: readonly string[] = []): Map<string, string> {
  const found = new Map<string, string>();
  const seen = new Set(skip);
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const soname of neededOf(file)) {
      if (seen.has(soname)) continue;
      seen.add(soname);
      const lib = find(soname);
      if (!lib) throw new Error(`no file provides ${soname} (needed by ${file})`);
      found.set(soname, lib);
      queue.push(lib);
    }
  }
  return found;
}
