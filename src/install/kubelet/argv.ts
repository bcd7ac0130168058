// Kubelet command-line flags: finding a flag's value in an argv (both "--flag=value" and
// "--flag value", as pflag accepts them) and checking feature gates.
import { GATE_NAME } from '../paths.ts';

/** The last value of a long flag (pflag keeps the last one), or undefined. */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
    else if (arg === flag && i + 1 < argv.length) value = argv[++i];
  }
  return value;
}

/** All values of a repeatable flag (pflag merges repeated --feature-gates). */
export function flagValues(argv: readonly string[], flag: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith(`${flag}=`)) values.push(arg.slice(flag.length + 1));
    else if (arg === flag && i + 1 < argv.length) values.push(argv[++i] as string);
  }
  return values;
}

/** Whether --feature-gates already turns KubeletCredentialProviders on. */
export function hasCredentialProviderGate(argv: readonly string[]): boolean {
  return flagValues(argv, '--feature-gates').some((v) => v.split(',').some((g) => g.trim().replace(/\s/g, '') === `${GATE_NAME}=true`));
}
