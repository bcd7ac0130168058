// `doctor`: checks a node end to end and prints one line per check with what to do. Loaded only
// by the full CLI (never on the kubelet's path). Exit 1 when any check fails.
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkCacheDir } from '../cache/cache-dir.ts';
import { registryHostOf } from '../kubelet/request.ts';
import { urlsMatch } from '../kubelet/match.ts';
import { loadConfig } from '../config/load.ts';
import type { FlagValues, ProviderConfig } from '../config/resolve.ts';
import { describeError, EXIT_FAILURE, EXIT_OK } from '../errors.ts';
import { PROGRAM_NAME, VERSION } from '../version.ts';
import { cloudChecks } from './cloud.ts';
import { BIN_DIR_FLAG, CONFIG_FLAG, discoverKubelet, hostPath, readCredentialProviderConfig } from './kubelet.ts';
import { payloadChecks } from './payload.ts';
import { buildReport, renderJson, renderText, type Check } from './report.ts';

export interface DoctorOptions {
  image?: string;
  output: 'text' | 'json';
  hostRoot: string;
  checkRegistry: boolean;
  registryEndpoints: Record<string, string>;
  /** Name of our entry in the CredentialProviderConfig (default: the program name). */
  providerName?: string;
}

export async function runDoctor(flags: FlagValues, options: DoctorOptions, writeStdout: (text: string) => Promise<void>, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const checks: Check[] = [];
  const add = (c: Check): void => {
    checks.push(c);
  };
  let config: ProviderConfig | undefined;
  try {
    config = await loadConfig(flags, env);
    add({ id: 'config', status: 'pass', message: config.configFile ? `loaded ${config.configFile}` : 'no config file: defaults, flags and environment' });
  } catch (error) {
    add({ id: 'config', status: 'fail', message: describeError(error) });
  }
  const image = options.image?.trim();
  const imageHost = image ? registryHostOf(image) : undefined;
  if (config) {
    const hosts = imageHost ? [imageHost] : config.registries.map((r) => r.domains[0]!).filter(Boolean);
    if (hosts.length === 0) add({ id: 'token', status: 'skip', message: 'no --image and no registries configured: pass --image <an image you pull> to get a token' });
    await cloudChecks({ config, env, hosts, checkRegistry: options.checkRegistry, registryEndpoints: options.registryEndpoints }, add);
    cacheDirChecks(hostPath(options.hostRoot, config.cacheDir), add);
  }
  await kubeletChecks(options, config, image, add);
  await payloadChecks(options, add);
  const report = buildReport(PROGRAM_NAME, VERSION, checks);
  await writeStdout(options.output === 'json' ? renderJson(report) : renderText(report));
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}

/**
 * The provider's own check of the directory and every directory above it (cache/cache-dir.ts),
 * then what is inside: ours, 0700 directories and 0600 files, no symbolic links.
 */
export function cacheDirChecks(dir: string, add: (c: Check) => void): void {
  const check = checkCacheDir(dir);
  if (!check.usable) {
    if (check.missing) add({ id: 'cache-dir', status: 'warn', message: `${dir} does not exist yet: the first cache miss creates it (0700)` });
    else add({ id: 'cache-dir', status: 'fail', message: `${dir} ${check.reason}: the provider neither reads nor writes it (fix: chmod 700 and chown it and its parents, or point cacheDir elsewhere)` });
    return;
  }
  const euid = process.geteuid?.() ?? 0;
  const problems: string[] = [];
  const walk = (path: string, shown: string, depth: number): number => {
    let files = 0;
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const p = join(shown, entry.name);
      const s = lstatSync(join(path, entry.name), { throwIfNoEntry: false });
      if (!s) continue;
      if (s.uid !== euid) problems.push(`${p} is owned by uid ${s.uid}, not ${euid}`);
      if (s.isSymbolicLink()) problems.push(`${p} is a symbolic link: nothing in the cache should be`);
      else if ((s.mode & 0o077) !== 0) problems.push(`${p} has mode ${(s.mode & 0o777).toString(8)}, expected ${s.isDirectory() ? 700 : 600}`);
      if (s.isDirectory() && depth < 3) files += walk(join(path, entry.name), p, depth + 1);
      else if (s.isFile()) files++;
    }
    return files;
  };
  try {
    const files = walk(check.dir.self(), dir, 0);
    if (problems.length === 0) add({ id: 'cache-dir', status: 'pass', message: `${dir}: 0700, owned by uid ${euid}, ${files} files all 0600` });
    else add({ id: 'cache-dir', status: 'fail', message: `${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}` });
  } catch (error) {
    add({ id: 'cache-dir', status: 'fail', message: `${dir} cannot be listed (${describeError(error)})` });
  } finally {
    check.dir.close();
  }
}

async function kubeletChecks(options: DoctorOptions, config: ProviderConfig | undefined, image: string | undefined, add: (c: Check) => void): Promise<void> {
  const found = discoverKubelet(options.hostRoot);
  const name = options.providerName ?? PROGRAM_NAME;
  const flags = found.flags;
  if (!flags || (flags.config === undefined && flags.binDir === undefined)) {
    add({
      id: 'kubelet.flags',
      status: found.pid === undefined ? 'warn' : 'fail',
      message:
        found.pid === undefined
          ? `no running kubelet and no kubelet flag files found under ${options.hostRoot} (in a pod, mount the host at /host, use hostPID and --host-root /host)`
          : `the kubelet (pid ${found.pid}) runs without --${CONFIG_FLAG} and --${BIN_DIR_FLAG}: add both and restart it`,
    });
    return;
  }
  const missing = [flags.config === undefined ? `--${CONFIG_FLAG}` : '', flags.binDir === undefined ? `--${BIN_DIR_FLAG}` : ''].filter(Boolean);
  add({
    id: 'kubelet.flags',
    status: missing.length ? 'fail' : 'pass',
    message: missing.length ? `${flags.source}: ${missing.join(' and ')} not set (the kubelet needs both)` : `${flags.source}: --${CONFIG_FLAG}=${flags.config} --${BIN_DIR_FLAG}=${flags.binDir}`,
  });
  if (flags.config === undefined) return;
  const read = await readCredentialProviderConfig(hostPath(options.hostRoot, flags.config));
  if (read.problems.length) add({ id: 'kubelet.provider-config', status: 'fail', message: read.problems.join('; ') });
  const ours = read.providers.filter((p) => p.name === name);
  if (ours.length === 0) {
    if (read.files.length) add({ id: 'kubelet.provider-config', status: 'fail', message: `no provider named "${name}" in ${read.files.join(', ')} (providers: ${read.providers.map((p) => p.name).join(', ') || 'none'})` });
    return;
  }
  if (ours.length > 1) add({ id: 'kubelet.provider-config', status: 'fail', message: `provider "${name}" appears ${ours.length} times (${ours.map((p) => p.file).join(', ')}): the kubelet refuses duplicate names` });
  const entry = ours[0]!;
  if (ours.length === 1 && read.problems.length === 0) add({ id: 'kubelet.provider-config', status: 'pass', message: `provider "${name}" in ${entry.file} (${entry.apiVersion ?? 'no apiVersion'}; matchImages: ${entry.matchImages.join(' ') || 'none'})` });

  if (flags.binDir !== undefined) {
    const bin = hostPath(options.hostRoot, join(flags.binDir, name));
    try {
      const st = statSync(bin);
      if (!st.isFile()) add({ id: 'kubelet.binary', status: 'fail', message: `${bin} is not a regular file` });
      else if ((st.mode & 0o111) === 0) add({ id: 'kubelet.binary', status: 'fail', message: `${bin} is not executable: chmod 755 it` });
      else add({ id: 'kubelet.binary', status: 'pass', message: `${bin} present and executable` });
    } catch {
      add({ id: 'kubelet.binary', status: 'fail', message: `${bin} does not exist: the kubelet fails every exec ("plugin binary executable ... did not exist")` });
    }
  }

  // Would the kubelet send our registries (and the --image) to us? Its own matching rules.
  const targets = [...new Set([...(config?.registries.flatMap((r) => r.domains) ?? []), ...(image ? [image] : [])])];
  if (targets.length === 0) {
    add({ id: 'kubelet.match-images', status: entry.matchImages.length ? 'pass' : 'fail', message: entry.matchImages.length ? `matchImages set (${entry.matchImages.length} patterns); pass --image to check one` : 'matchImages is empty' });
    return;
  }
  const unmatched = targets.filter((t) => !entry.matchImages.some((p) => urlsMatch(p, t)));
  if (unmatched.length === 0) {
    add({ id: 'kubelet.match-images', status: 'pass', message: `matchImages cover ${targets.join(', ')}` });
  } else {
    add({
      id: 'kubelet.match-images',
      status: 'fail',
      message: `matchImages (${entry.matchImages.join(' ')}) do not match ${unmatched.join(', ')} under the kubelet's rules (same number of dot-separated labels, equal ports, * within one label): add e.g. ${unmatched.map(suggestPattern).join(' ')}`,
    });
  }
}

/** The host with its first label wildcarded, the way the example config does it. */
function suggestPattern(target: string): string {
  const host = registryHostOf(target);
  const labels = host.split('.');
  return labels.length > 2 ? ['*', ...labels.slice(1)].join('.') : host;
}
