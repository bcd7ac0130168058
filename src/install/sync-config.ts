// `sync-config`: keeps the node's provider config in step with its source (the mounted
// ConfigMap). ConfigMap volumes change by swapping a symlink, which fs.watch on the file can
// miss, so the source is simply re-read every few seconds; the node file is rewritten
// atomically only when the validated content differs. Invalid content is logged, not written.
// The provider reads its config per call: no kubelet restart. New custom domains also need the
// kubelet's matchImages, which only `install` changes: that is logged.
import { isDeepStrictEqual } from 'node:util';
import { readConfigFile } from '../config/load.ts';
import type { ConfigFile } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import { customDomains } from './credential-config/entry.ts';
import type { HostFs } from './host-fs.ts';
import { PROVIDER_CONFIG_MODE, renderProviderConfig } from './provider-config.ts';

export interface SyncOptions {
  fs: HostFs;
  source: string; // pod-side path
  nodePath: string; // host path
  intervalMs: number;
  signal: AbortSignal;
  log: (level: 'info' | 'warn' | 'error', line: string) => void;
}

/** What the loop remembers between passes: the failure in progress, to log it once per episode. */
export interface SyncEpisode {
  failing?: string;
  loggedAt?: number;
  repeats?: number;
}

// An unchanged failure is said again this often while it lasts.
const REMIND_MS = 10 * 60_000;

/** One pass: logs every update, a refused source once per episode (and every 10 minutes while it lasts), each recovery. */
export async function syncOnce(options: Omit<SyncOptions, 'intervalMs' | 'signal'>, episode: SyncEpisode = {}): Promise<{ result: 'written' | 'unchanged' | 'invalid' }> {
  const { fs, source, nodePath } = options;
  let config: ConfigFile;
  try {
    config = await readConfigFile(source);
  } catch (error) {
    const problem = describeError(error);
    const now = Date.now();
    if (problem !== episode.failing || now - (episode.loggedAt ?? 0) >= REMIND_MS) {
      const repeats = problem === episode.failing ? ` (refused ${(episode.repeats ?? 0) + 1} times so far)` : '';
      options.log('error', `${problem}; keeping the node's current config${repeats}`);
      episode.loggedAt = now;
    }
    episode.repeats = problem === episode.failing ? (episode.repeats ?? 0) + 1 : 0;
    episode.failing = problem;
    return { result: 'invalid' };
  }
  if (episode.failing !== undefined) {
    options.log('info', `${source} is valid again`);
    delete episode.failing;
  }
  const path = fs.realHostPath(nodePath);
  const wanted = renderProviderConfig(config);
  const current = fs.read(path);
  if (current !== undefined && current.equals(wanted) && fs.stat(path)?.mode === PROVIDER_CONFIG_MODE) return { result: 'unchanged' };
  const previousDomains = current === undefined ? [] : domainsOf(current);
  fs.mkdirs(fs.parentOf(path));
  await fs.write(path, wanted, PROVIDER_CONFIG_MODE);
  options.log('info', `updated ${nodePath} from ${source}`);
  if (!isDeepStrictEqual(previousDomains, customDomains(config))) {
    options.log('warn', 'the custom registry domains changed: re-run install so the kubelet matchImages include them');
  }
  return { result: 'written' };
}

function domainsOf(content: Buffer): string[] {
  try {
    return customDomains(JSON.parse(content.toString('utf8')) as ConfigFile);
  } catch {
    return [];
  }
}

/** Runs until the signal aborts (SIGTERM in the CLI). */
export async function runSyncConfig(options: SyncOptions): Promise<void> {
  const episode: SyncEpisode = {};
  while (!options.signal.aborted) {
    try {
      await syncOnce(options, episode);
    } catch (error) {
      options.log('error', `syncing ${options.nodePath} failed: ${describeError(error)}; retrying`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs);
      options.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}
