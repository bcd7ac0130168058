// Which loader paths name a payload's binary (src/payload/exec-path.ts). That the provider started
// through the wrapper really reports its binary is shown end to end in
// test/packaging/no-libc-host.test.ts (install --dry-run through the wrapper).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { payloadBinaryOf } from '../../../src/payload/exec-path.ts';

describe('payloadBinaryOf', () => {
  const table: [string, string | undefined][] = [
    ['/opt/acr/0.1.0-amd64-0123/lib/ld-linux-x86-64.so.2', '/opt/acr/0.1.0-amd64-0123/aliyun-acr-credential-provider'],
    ['/usr/lib/aliyun-acr-credential-provider/payload/lib/ld-linux-aarch64.so.1', '/usr/lib/aliyun-acr-credential-provider/payload/aliyun-acr-credential-provider'],
    ['/lib/ld-linux-aarch64.so.1', '/aliyun-acr-credential-provider'],
    // The system's own loaders, run by hand: not a payload.
    ['/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', undefined],
    ['/usr/lib64/ld-2.17.so', undefined],
    ['/lib64/ld-linux-x86-64.so.2', undefined],
    // The binary itself, the bundle under node, anything else.
    ['/usr/local/bin/aliyun-acr-credential-provider', undefined],
    ['/usr/bin/node', undefined],
    ['ld-linux-x86-64.so.2', undefined],
    ['/opt/acr/lib/libc.so.6', undefined],
  ];
  for (const [loader, binary] of table) {
    it(`${loader} -> ${binary ?? 'not a payload loader'}`, () => assert.equal(payloadBinaryOf(loader), binary));
  }
});
