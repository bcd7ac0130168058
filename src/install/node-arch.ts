// The node's architecture as the kubelet meets it: that of the node's /bin/sh, the one program of
// the host the provider's wrapper runs. Read from its ELF header, not from this process (an image
// of the wrong architecture running under binfmt emulation would see its own).
import type { PayloadArch } from '../payload/manifest.ts';
import { ProviderError } from '../errors.ts';
import type { HostFs } from './host-fs.ts';

export const NODE_SHELL = '/bin/sh';

const MACHINES: Record<number, PayloadArch> = { 62: 'amd64', 183: 'arm64' }; // EM_X86_64, EM_AARCH64

export function nodeArch(fs: HostFs): PayloadArch | `ELF machine ${number}` {
  const head = fs.head(NODE_SHELL, 20);
  if (head === undefined) throw new ProviderError('config', `the node has no ${NODE_SHELL}, which the provider's wrapper needs; install a shell there, or check --host-root`);
  if (head.length < 20 || head.readUInt32BE(0) !== 0x7f454c46) throw new ProviderError('config', `cannot tell the node's architecture: ${NODE_SHELL} is not an ELF executable`);
  const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  return MACHINES[machine] ?? `ELF machine ${machine}`;
}
