// Entry point. Kubelet mode (the hot path) is parsed with the built-in parser and never loads
// yargs; everything else goes to the full CLI. Every way out is one line on stderr at most,
// never a stack trace, and stdout carries nothing but the response.
import { runKubeletMode } from './cli/kubelet-mode.ts';
import { parseKubeletModeArgv } from './cli/fast-argv.ts';
import { readStdin } from './cli/stdin.ts';
import { writeStdout } from './cli/stdout.ts';
import { describeError, EXIT_FAILURE, EXIT_OK } from './errors.ts';
import { createLogger } from './log/logger.ts';
import { VERSION } from './version.ts';
import { execPathBehindLoader } from './payload/exec-path.ts';

const DOCKER_HELPER_NAME = 'docker-credential-aliyun-acr';

function exitOnCrash(error: unknown): never {
  createLogger('error').error(`internal error: ${describeError(error)}`);
  process.exit(EXIT_FAILURE);
}

/**
 * Docker-style clients run `docker-credential-<name> get`. Under that name (a symlink or copy)
 * the binary speaks their protocol: argv0 is the name it was started by (a Node SEA binary, the
 * shebang'd bundle, or the payload's wrapper, which passes its own name to the loader as --argv0);
 * argv[1] is the script path when run as `node <symlink>`.
 */
function invokedAsDockerHelper(): boolean {
  const base = (p: string | undefined): string => (p ?? '').slice((p ?? '').lastIndexOf('/') + 1).replace(/\.c?js$/, '');
  return base(process.argv0) === DOCKER_HELPER_NAME || base(process.argv[1]) === DOCKER_HELPER_NAME;
}

async function main(): Promise<number> {
  // Started through the payload's own loader (on a node), process.execPath names the loader.
  execPathBehindLoader();
  // Token files and directories are created owner-only, whatever library creates them.
  process.umask(0o077);
  // Library deprecation notices (httpx uses url.parse) are not actionable by users and would
  // break the one-line-on-stderr rule.
  process.noDeprecation = true;
  const argv = process.argv.slice(2);
  // `--version` alone (the installer's smoke test, doctor, people) needs no command line library.
  if (argv.length === 1 && argv[0] === '--version' && !invokedAsDockerHelper()) {
    await writeStdout(`${VERSION}\n`);
    return EXIT_OK;
  }
  if (invokedAsDockerHelper()) {
    const { runCli } = await import('./lazy-cli.ts');
    return runCli(['docker-credential-helper', ...argv], writeStdout);
  }
  const flags = parseKubeletModeArgv(argv);
  if (flags) return runKubeletMode(flags, { stdin: readStdin, stdout: writeStdout });
  const { runCli } = await import('./lazy-cli.ts');
  return runCli(argv, writeStdout);
}

process.on('uncaughtException', exitOnCrash);
process.on('unhandledRejection', exitOnCrash);
main().then((code) => process.exit(code), exitOnCrash);
