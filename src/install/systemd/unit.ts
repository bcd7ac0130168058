// Reads a systemd service as systemd would: the unit file, then its drop-ins in name order,
// to get the effective ExecStart, the Environment= assignments and the EnvironmentFile= list.
// Enough of systemd's rules to find where the kubelet's flags come from and to expand them.
import { posix } from 'node:path';
import type { HostFs } from '../host-fs.ts';
import { parseEnvFile } from './env-file.ts';
import { splitWords } from './words.ts';

// Highest precedence first: a file of the same name in an earlier directory wins.
export const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

export interface EnvFileRef {
  path: string;
  optional: boolean; // "-" prefix: missing is fine
}

export interface ServiceModel {
  unit: string; // e.g. kubelet.service
  unitPath: string | undefined; // host path of the unit file
  files: string[]; // unit file and drop-ins, in the order systemd applies them
  execStart: string | undefined; // the effective ExecStart value, continuation lines joined
  execStartFile: string | undefined; // which file set it
  environment: Map<string, string>; // from Environment=
  envFiles: EnvFileRef[];
}

interface Directive {
  key: string;
  value: string;
}

/** [Service] directives of a unit file, with backslash continuations joined. */
export function serviceDirectives(text: string): Directive[] {
  const out: Directive[] = [];
  const lines = text.split(/\r?\n/);
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      section = line;
      continue;
    }
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1).trimEnd()} ${(lines[++i] as string).trim()}`;
    }
    if (section !== '[Service]') continue;
    const eq = line.indexOf('=');
    if (eq === -1) continue;
    out.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return out;
}

export function findUnitFile(fs: HostFs, unit: string): string | undefined {
  for (const dir of UNIT_DIRS) {
    const path = `${dir}/${unit}`;
    if (fs.stat(path)?.isFile) return path;
  }
  return undefined;
}

export function dropInFiles(fs: HostFs, unit: string): string[] {
  const byName = new Map<string, string>();
  for (const dir of [...UNIT_DIRS].reverse()) {
    for (const name of fs.list(`${dir}/${unit}.d`)) {
      if (name.endsWith('.conf')) byName.set(name, `${dir}/${unit}.d/${name}`);
    }
  }
  return [...byName.keys()].sort().map((name) => byName.get(name) as string);
}

export function readService(fs: HostFs, unit: string): ServiceModel | undefined {
  const unitPath = findUnitFile(fs, unit);
  const dropIns = dropInFiles(fs, unit);
  if (unitPath === undefined && dropIns.length === 0) return undefined;
  const model: ServiceModel = { unit, unitPath, files: [], execStart: undefined, execStartFile: undefined, environment: new Map(), envFiles: [] };
  for (const file of unitPath ? [unitPath, ...dropIns] : dropIns) {
    const text = fs.readText(file);
    if (text === undefined) continue;
    model.files.push(file);
    applyDirectives(model, file, serviceDirectives(text));
  }
  return model;
}

function applyDirectives(model: ServiceModel, file: string, directives: Directive[]): void {
  for (const { key, value } of directives) {
    if (key === 'ExecStart') {
      model.execStart = value === '' ? undefined : value;
      model.execStartFile = value === '' ? undefined : file;
    } else if (key === 'Environment') {
      if (value === '') model.environment.clear();
      for (const word of splitWords(value)) {
        const eq = word.indexOf('=');
        if (eq > 0) model.environment.set(word.slice(0, eq), word.slice(eq + 1));
      }
    } else if (key === 'EnvironmentFile') {
      if (value === '') model.envFiles = [];
      else {
        const optional = value.startsWith('-');
        model.envFiles.push({ path: optional ? value.slice(1) : value, optional });
      }
    }
  }
}

/** The environment ExecStart sees: Environment= first, then EnvironmentFile= files override. */
export function effectiveEnvironment(fs: HostFs, model: ServiceModel): Map<string, string> {
  const env = new Map(model.environment);
  for (const ref of model.envFiles) {
    const text = fs.readText(ref.path);
    if (text === undefined) continue;
    for (const [k, v] of parseEnvFile(text)) env.set(k, v);
  }
  return env;
}

/** Env file (if any) that sets `name` last, i.e. the one whose value ExecStart gets. */
export function envFileSetting(fs: HostFs, model: ServiceModel, name: string): string | undefined {
  let found: string | undefined;
  for (const ref of model.envFiles) {
    const text = fs.readText(ref.path);
    if (text !== undefined && parseEnvFile(text).has(name)) found = ref.path;
  }
  return found;
}

/** ExecStart's argv with $VAR (split into words) and ${VAR} (one word) expanded. */
export function expandExecStart(execStart: string, env: Map<string, string>): string[] {
  const raw = execStart.replace(/^[-@:+!]+/, '');
  const argv: string[] = [];
  for (const word of splitWords(raw)) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) {
      argv.push(...(env.get(whole[1] as string) ?? '').split(/\s+/).filter((w) => w !== ''));
      continue;
    }
    argv.push(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env.get(name) ?? ''));
  }
  return argv;
}

/** Names of the variables ExecStart expands, in order. */
export function execStartVariables(execStart: string): string[] {
  const names: string[] = [];
  for (const m of execStart.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)) names.push(m[1] as string);
  return names;
}

export function unitDir(path: string): string {
  return posix.dirname(path);
}
