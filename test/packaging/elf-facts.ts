// Facts about ELF files for the packaging tests, read with readelf (binutils).
import { spawnSync } from 'node:child_process';

function readelf(args: string[], file: string): string {
  const r = spawnSync('readelf', ['-W', ...args, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`readelf ${args.join(' ')} ${file}: ${r.stderr}`);
  return r.stdout;
}

export const isElf = (bytes: Buffer): boolean => bytes.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'));
export const elfInterpreter = (file: string): string | undefined => /Requesting program interpreter: ([^\]]+)\]/.exec(readelf(['-l'], file))?.[1];
export const elfNeeded = (file: string): string[] => [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
export const elfMachine = (file: string): string => /Machine:\s+(.+)/.exec(readelf(['-h'], file))?.[1]?.trim() ?? '';
export const elfSoname = (file: string): string | undefined => /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(readelf(['-d'], file))?.[1];
