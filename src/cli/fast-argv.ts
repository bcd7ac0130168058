// Kubelet mode is the common case and must start fast: parse its flags with the built-in
// parseArgs. Anything it does not understand (a subcommand, --help, an unknown or malformed
// flag) returns undefined, and the full yargs CLI takes over with proper help and errors.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { FlagValues } from '../config/resolve.ts';
import { GLOBAL_FLAGS, toFlagValues } from './options.ts';

const parseArgsOptions: ParseArgsOptionsConfig = Object.fromEntries(
  Object.entries(GLOBAL_FLAGS).map(([name, spec]) => [name, { type: 'string', multiple: 'array' in spec }]),
);

export function parseKubeletModeArgv(argv: readonly string[]): FlagValues | undefined {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: parseArgsOptions, strict: true, allowPositionals: true });
    if (positionals.length > 0) return undefined;
    for (const [name, spec] of Object.entries(GLOBAL_FLAGS)) {
      const value = values[name];
      if ('choices' in spec && typeof value === 'string' && !(spec.choices as readonly string[]).includes(value)) return undefined;
    }
    return toFlagValues(values);
  } catch {
    return undefined;
  }
}
