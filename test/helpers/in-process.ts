// Kubelet mode run in this process (runKubeletMode with its streams injected), returning what a
// child process run would: exit code, stdout, stderr. For tests that need many calls, or a
// virtual clock, without a process each.
import { Readable } from 'node:stream';
import { parseKubeletModeArgv } from '../../src/cli/fast-argv.ts';
import { runKubeletMode } from '../../src/cli/kubelet-mode.ts';
import { streamReader } from '../../src/cli/stdin.ts';
import type { Clock } from '../../src/resilience/clock.ts';
import { kubeletRequest, type RunResult } from './run-provider.ts';

export interface InProcessOptions {
  /** Flags as on the command line (e.g. ['--config', path]). */
  args: string[];
  /** The request on stdin (default: the kubelet's request for `image`). */
  stdin?: string;
  image?: string;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

export async function runInProcess(options: InProcessOptions): Promise<RunResult> {
  const flags = parseKubeletModeArgv(options.args);
  if (!flags) throw new Error(`not kubelet-mode flags: ${options.args.join(' ')}`);
  const stdin = options.stdin ?? kubeletRequest(options.image ?? '');
  let stdout = '';
  const stderr: string[] = [];
  const started = performance.now();
  const code = await runKubeletMode(flags, {
    stdin: streamReader(Readable.from([Buffer.from(stdin)])),
    stdout: async (text) => void (stdout += text),
    stderr: (line) => void stderr.push(`${line}\n`),
    ...(options.clock ? { clock: options.clock } : {}),
    env: options.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  return { code, signal: null, stdout, stderr: stderr.join(''), ms: performance.now() - started, args: options.args, ...(options.image !== undefined ? { image: options.image } : {}) };
}
