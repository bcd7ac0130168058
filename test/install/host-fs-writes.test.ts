// HostFs writes through the same primitives as the provider's own files (src/fs): a checked
// directory held open, a new temp file created O_EXCL|O_NOFOLLOW, renamed over the name. What
// replaces a file is root's, whoever owned the file before (write-file-atomic chowned its temp file
// to the old file's owner: a user who owned /etc/default/kubelet kept the kubelet's flags).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chownSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostFs } from '../../src/install/host-fs.ts';
import { cleanup, makeHost, tempDir } from './helpers.ts';

after(cleanup);

describe('HostFs writes', () => {
  it("a file owned by another user is replaced by root's file, not chowned back to that user", async () => {
    const root = makeHost({ '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=\n' });
    chownSync(join(root, '/etc/default/kubelet'), 1000, 1000);
    await new HostFs(root).write('/etc/default/kubelet', Buffer.from('KUBELET_EXTRA_ARGS=--v=2\n'), 0o644);
    const st = lstatSync(join(root, '/etc/default/kubelet'));
    assert.equal(readFileSync(join(root, '/etc/default/kubelet'), 'utf8'), 'KUBELET_EXTRA_ARGS=--v=2\n');
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o644]);
  });

  it('a copied file owned by another user before is root\'s after', () => {
    const root = makeHost({ '/opt/bin/tool': 'old\n' });
    chownSync(join(root, '/opt/bin/tool'), 1000, 1000);
    const source = join(tempDir(), 'tool');
    writeFileSync(source, 'new\n');
    const fs = new HostFs(root);
    fs.copyIn(source, '/opt/bin/tool', 0o755, { sha256: createHash('sha256').update('new\n').digest('hex'), size: 4 });
    const st = lstatSync(join(root, '/opt/bin/tool'));
    assert.deepEqual([st.uid, st.mode & 0o7777, readFileSync(join(root, '/opt/bin/tool'), 'utf8')], [0, 0o755, 'new\n']);
  });
});

describe('HostFs removals of what is not there', () => {
  it('remove, removeTree and rmdirIfEmpty of a path whose directory does not exist are no-ops', () => {
    const fs = new HostFs(makeHost({ '/etc/keep': '' }));
    fs.remove('/etc/missing/file');
    fs.removeTree('/etc/missing/dir');
    assert.equal(fs.rmdirIfEmpty('/etc/missing/dir'), true);
  });
});
