// Entry point. Kubelet mode (the hot path) is parsed with the built-in parser and never loads
// yargs; everything else goes to the full CLI. Every way out is one line on stderr at most,
// never a stack trace, and stdout carries nothing but the response.
import { runKubeletMode } from './cli/kubelet-mode.ts';
import { parseKubeletModeArgv } from './cli/fast-argv.ts';
import { writeStdout } from './cli/stdout.ts';
import { describeError } from './errors.ts';
import { createLogger } from './log/logger.ts';

function exitOnCrash(error: unknown): never {
  createLogger('error').error(`internal error: ${describeError(error)}`);
  process.exit(1);
}

async function main(): Promise<number> {
  // Token files and directories are created owner-only, whatever library creates them.
  process.umask(0o077);
  // Library deprecation notices (httpx uses url.parse) are not actionable by users and would
  // break the one-line-on-stderr rule.
  process.noDeprecation = true;
  const argv = process.argv.slice(2);
  const flags = parseKubeletModeArgv(argv);
  if (flags) return runKubeletMode(flags, writeStdout);
  const { runCli } = await import('./lazy.ts');
  return runCli(argv, writeStdout);
}

process.on('uncaughtException', exitOnCrash);
process.on('unhandledRejection', exitOnCrash);
main().then((code) => process.exit(code), exitOnCrash);
