// The install init container has to fit its memory limit with room to spare: payload files are
// hashed, compared and copied by streaming, never read whole. A payload with a 128 MiB binary
// stands in for the real one (~127 MiB; npm run bench measures it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { BUNDLE, cleanup } from './helpers.ts';
import { FakeNode } from './fake-node.ts';
import { INSTALLER_PEAK_MIB, installPeaks, largePayload } from './rss-scenarios.ts';

const LIMIT_KIB = INSTALLER_PEAK_MIB * 1024;

let node: FakeNode;
before(async () => {
  assert.ok(existsSync(BUNDLE), 'run npm run build first');
  node = await FakeNode.start();
});
after(async () => {
  await node.close();
  cleanup();
});

describe('install memory', () => {
  it('peak RSS stays under 96 MiB on a fresh, an installed and an upgraded node (payload with a 128 MiB binary)', async () => {
    const peaks = await installPeaks([process.execPath, BUNDLE], { old: largePayload(128, 1), new: largePayload(128, 2) }, node);
    for (const [scenario, kib] of Object.entries(peaks)) {
      assert.ok(kib < LIMIT_KIB, `${scenario}: peak RSS ${Math.round(kib / 1024)} MiB (limit 96 MiB); all: ${JSON.stringify(peaks)}`);
    }
  });
});
