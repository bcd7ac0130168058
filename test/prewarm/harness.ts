// A node for the pre-warm tests, in virtual time against the emulators: the pre-warmer
// (runPrewarmCommand, as the DaemonSet runs it) and kubelet calls (runKubeletMode, in process)
// share one cache directory and one JumpingClock, which the emulators use too, so that the
// tokens they issue expire as virtual time passes.
import { join } from 'node:path';
import { createLogger } from '../../src/log/logger.ts';
import { runPrewarmCommand } from '../../src/prewarm/command.ts';
import type { Cloud } from '../helpers/cloud.ts';
import { runInProcess } from '../helpers/in-process.ts';
import { writeConfig, type RunResult } from '../helpers/run-provider.ts';
import { JumpingClock } from '../helpers/virtual-clock.ts';

export const MIN = 60_000;
export const HOUR = 60 * MIN;

export interface TestNode {
  clock: JumpingClock;
  configPath: string;
  /** The pre-warmer's log lines. */
  logs: string[];
  /** A kubelet call for `image`: the result and the cache outcome of its summary line. */
  kubelet(image: string): Promise<{ r: RunResult; cache: string | undefined }>;
  /** Moves virtual time `totalMs` ahead in steps, letting the pre-warmer finish what fell due after each. */
  advance(totalMs: number, stepMs: number, afterStep?: () => Promise<void>): Promise<void>;
  /** Waits until the pre-warmer has nothing due before its next wake. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeOptions {
  prewarm: boolean;
  /** Extra provider config (registries, prewarm, ...). */
  config?: Record<string, unknown>;
  /** The kubelet path's cache directory, when it is not the pre-warmer's (a misconfigured mount). */
  kubeletCacheDir?: string;
  /** Return at once, while the pre-warmer's first pass may still be running (default: after it). */
  noFirstSettle?: boolean;
}

export async function startNode(c: Cloud, options: NodeOptions): Promise<TestNode> {
  const clock = new JumpingClock();
  c.e.state.useClock(() => clock.now());
  const configPath = writeConfig(c.dir, c.e, { logLevel: 'info', ...options.config }, 'node.json');
  const kubeletConfig = options.kubeletCacheDir ? writeConfig(c.dir, c.e, { logLevel: 'info', ...options.config, cacheDir: options.kubeletCacheDir }, 'kubelet.json') : configPath;
  const logs: string[] = [];
  const stop = new AbortController();
  let idleUntil: number | undefined;
  const running = options.prewarm
    ? runPrewarmCommand({
        flags: { config: configPath },
        nodeName: 'node-a',
        clock,
        signal: stop.signal,
        logger: createLogger('info', (line) => logs.push(line)),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        onIdle: (wakeAt) => (idleUntil = wakeAt),
      })
    : Promise.resolve();
  /** The pre-warmer has nothing due before its next wake (or is not running). */
  const settle = async (): Promise<void> => {
    if (!options.prewarm) return;
    while (idleUntil === undefined || idleUntil <= clock.now()) await new Promise((r) => setTimeout(r, 5));
  };
  if (!options.noFirstSettle) await settle();
  return {
    clock,
    configPath,
    logs,
    async kubelet(image) {
      const r = await runInProcess({ args: ['--config', kubeletConfig], image, clock });
      return { r, cache: /\bcache=([a-z-]+)/.exec(r.stderr)?.[1] };
    },
    async advance(totalMs, stepMs, afterStep) {
      for (let done = 0; done < totalMs; done += stepMs) {
        clock.advance(Math.min(stepMs, totalMs - done));
        await settle();
        await afterStep?.();
      }
    },
    settle,
    async stop() {
      stop.abort();
      await running;
    },
  };
}

export const otherCacheDir = (c: Cloud): string => join(c.dir, 'kubelet-cache');
