// The file change that adds kubelet flags at a layout's flag target.
import { bytes, fileChange, optionalBytes, type FileChange } from '../changes.ts';
import type { HostFs } from '../host-fs.ts';
import { PROVIDER_NAME } from '../paths.ts';
import { appendToEnvVar } from '../systemd/env-file.ts';
import type { FlagTarget } from './types.ts';

const HEADER = `# Written by ${PROVIDER_NAME} install: adds the kubelet's image credential provider flags.\n# Removed by ${PROVIDER_NAME} uninstall.\n`;

export function flagEditChange(fs: HostFs, target: FlagTarget, flags: string[]): FileChange | undefined {
  const path = fs.realHostPath(target.path);
  const before = fs.read(path);
  const beforeMode = fs.stat(path)?.mode;
  const after = Buffer.from(flagFileText(before?.toString('utf8'), target, flags));
  return fileChange(path, 'kubelet-flags', optionalBytes(before), beforeMode, bytes(after), beforeMode ?? 0o644);
}

function flagFileText(current: string | undefined, target: FlagTarget, flags: string[]): string {
  switch (target.kind) {
    case 'env-file':
      return appendToEnvVar(current, target.variable, flags);
    case 'drop-in-env': {
      const value = [target.currentValue.trim(), ...flags].filter((w) => w !== '').join(' ');
      // Unit files expand %-specifiers: a literal % is written %%.
      const escaped = `${target.variable}=${value}`.replace(/%/g, '%%').replace(/(["\\])/g, '\\$1');
      return `${HEADER}[Service]\nEnvironment="${escaped}"\n`;
    }
    case 'drop-in-exec-start':
      return `${HEADER}[Service]\nExecStart=\nExecStart=${target.execStart} ${flags.join(' ')}\n`;
  }
}
