// The node's kubelet, as the doctor sees it through --host-root: its credential provider flags
// (from the running kubelet's /proc/<pid>/cmdline, else from the usual env and flag files) and
// the CredentialProviderConfig those flags name (one file, or a 1.34+ directory of them).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CONFIG_FLAG = 'image-credential-provider-config';
export const BIN_DIR_FLAG = 'image-credential-provider-bin-dir';

export interface KubeletFlags {
  config?: string;
  binDir?: string;
  /** Where they were found: "kubelet process 1234" or a file path. */
  source: string;
}

/** Host-side files that commonly carry kubelet flags (kubeadm, distro packages, systemd, k3s/rke2). */
export const FLAG_FILES = [
  '/var/lib/kubelet/kubeadm-flags.env',
  '/etc/default/kubelet',
  '/etc/sysconfig/kubelet',
  '/etc/kubernetes/kubelet.env',
  '/etc/systemd/system/kubelet.service',
  '/lib/systemd/system/kubelet.service',
  '/usr/lib/systemd/system/kubelet.service',
  '/etc/systemd/system/kubelet.service.d',
  '/usr/lib/systemd/system/kubelet.service.d',
  '/etc/rancher/k3s/config.yaml',
  '/etc/rancher/rke2/config.yaml',
];

export function hostPath(hostRoot: string, path: string): string {
  return hostRoot === '/' || hostRoot === '' ? path : join(hostRoot, path);
}

/** Parses kubelet flags from an argv (`--flag=value` or `--flag value`). */
export function flagsFromArgv(argv: readonly string[]): Pick<KubeletFlags, 'config' | 'binDir'> {
  const out: Pick<KubeletFlags, 'config' | 'binDir'> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    for (const [flag, key] of [[CONFIG_FLAG, 'config'], [BIN_DIR_FLAG, 'binDir']] as const) {
      if (arg === `--${flag}` || arg === `-${flag}`) out[key] = argv[i + 1];
      else if (arg.startsWith(`--${flag}=`) || arg.startsWith(`-${flag}=`)) out[key] = arg.slice(arg.indexOf('=') + 1);
    }
  }
  return out;
}

/** Flags in free text (env files, unit files, k3s `kubelet-arg` lists). */
export function flagsFromText(text: string): Pick<KubeletFlags, 'config' | 'binDir'> {
  const out: Pick<KubeletFlags, 'config' | 'binDir'> = {};
  const re = /(?:^|[\s"'=\-])-{0,2}(image-credential-provider-(?:config|bin-dir))(?:=|\s+)["']?([^\s"']+)/gm;
  for (const m of text.matchAll(re)) {
    if (m[1] === CONFIG_FLAG) out.config = m[2];
    else out.binDir = m[2];
  }
  return out;
}

export interface KubeletDiscovery {
  flags: KubeletFlags | undefined;
  /** pid of a running kubelet, when one was found. */
  pid?: number;
}

export function discoverKubelet(hostRoot: string): KubeletDiscovery {
  const found = fromProcesses(hostRoot);
  if (found && (found.flags.config !== undefined || found.flags.binDir !== undefined)) return found;
  for (const file of FLAG_FILES) {
    for (const path of filesUnder(hostPath(hostRoot, file))) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      const flags = flagsFromText(text);
      if (flags.config !== undefined || flags.binDir !== undefined) return { ...(found ? { pid: found.pid } : {}), flags: { ...flags, source: path } };
    }
  }
  return found ? { pid: found.pid, flags: undefined } : { flags: undefined };
}

function filesUnder(path: string): string[] {
  try {
    const st = statSync(path);
    if (st.isFile()) return [path];
    if (st.isDirectory()) return readdirSync(path).filter((n) => n.endsWith('.conf')).sort().map((n) => join(path, n));
  } catch {
    // absent
  }
  return [];
}

function fromProcesses(hostRoot: string): { pid: number; flags: KubeletFlags } | undefined {
  let pids: string[];
  try {
    pids = readdirSync(hostPath(hostRoot, '/proc')).filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let argv: string[];
    try {
      argv = readFileSync(hostPath(hostRoot, `/proc/${pid}/cmdline`), 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      continue;
    }
    const exe = argv[0]?.split('/').pop();
    if (exe !== 'kubelet') continue;
    return { pid: Number(pid), flags: { ...flagsFromArgv(argv.slice(1)), source: `kubelet process ${pid}` } };
  }
  return undefined;
}

export interface ProviderEntry {
  name: string;
  matchImages: string[];
  apiVersion?: string;
  defaultCacheDuration?: string;
  args?: string[];
  /** The file it came from. */
  file: string;
}

export interface ProviderConfigRead {
  files: string[];
  providers: ProviderEntry[];
  problems: string[];
}

/** Reads a CredentialProviderConfig file, or (kubelet 1.34+) every *.json/*.yaml/*.yml in a directory, sorted. */
export async function readCredentialProviderConfig(path: string): Promise<ProviderConfigRead> {
  // The YAML parser is its own lazy module (shared with config loading): not bundled twice.
  const { parseYaml } = await import('../lazy-yaml.ts');
  const out: ProviderConfigRead = { files: [], providers: [], problems: [] };
  let st;
  try {
    st = statSync(path);
  } catch (error) {
    out.problems.push(`${path} cannot be read (${(error as NodeJS.ErrnoException).code})`);
    return out;
  }
  if (st.isDirectory()) {
    out.files = readdirSync(path)
      .filter((n) => /\.(json|ya?ml)$/.test(n))
      .map((n) => join(path, n))
      .filter((p) => statSync(p).isFile())
      .sort();
    if (out.files.length === 0) out.problems.push(`no configuration files found in directory "${path}" (the kubelet will refuse to start)`);
  } else {
    out.files = [path];
  }
  for (const file of out.files) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch {
      out.problems.push(`${file} is not valid YAML/JSON`);
      continue;
    }
    const d = doc as { kind?: unknown; providers?: unknown } | null;
    if (!d || d.kind !== 'CredentialProviderConfig' || !Array.isArray(d.providers)) {
      out.problems.push(`${file} is not a CredentialProviderConfig with providers`);
      continue;
    }
    for (const p of d.providers as Array<Record<string, unknown>>) {
      if (typeof p?.name !== 'string') continue;
      const entry: ProviderEntry = { name: p.name, matchImages: Array.isArray(p.matchImages) ? p.matchImages.filter((m): m is string => typeof m === 'string') : [], file };
      if (typeof p.apiVersion === 'string') entry.apiVersion = p.apiVersion;
      if (typeof p.defaultCacheDuration === 'string') entry.defaultCacheDuration = p.defaultCacheDuration;
      if (Array.isArray(p.args)) entry.args = p.args.map(String);
      out.providers.push(entry);
    }
  }
  return out;
}
