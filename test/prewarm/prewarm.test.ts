// The pre-warmer against the emulators, in virtual time (test/prewarm/harness.ts): kubelet calls
// are hits through hours of token refreshes, survive a 40-minute CR API outage, and share one
// token call per registry per refresh with the pre-warmer. Each claim is shown to fail without
// what makes it hold: the same timeline without the pre-warmer, or with a cache it does not share.
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, it } from 'node:test';
import { eeHost, eeTokenCalls, PE_HOST, personalTokenCalls, withCloud, type Cloud } from '../helpers/cloud.ts';
import { DEFAULT_PREWARM_POLICY } from '../../src/prewarm/schedule.ts';
import { HOUR, MIN, otherCacheDir, startNode, type TestNode } from './harness.ts';

const EE = eeHost('acme');
const IMAGES = [`${PE_HOST}/ns/app`, `${EE}/team/api`];

function tokenCalls(c: Cloud): number {
  return personalTokenCalls(c.e) + eeTokenCalls(c.e);
}

/** Kubelet calls for every image; returns their cache outcomes, asserting each got credentials. */
async function callAll(node: TestNode, expectServed = true): Promise<Array<string | undefined>> {
  const outcomes: Array<string | undefined> = [];
  for (const image of IMAGES) {
    const { r, cache } = await node.kubelet(image);
    if (expectServed) {
      assert.equal(r.code, 0, r.stderr);
      assert.ok(JSON.parse(r.stdout).auth, `credentials for ${image}`);
    }
    outcomes.push(r.code === 0 ? cache : 'failed');
  }
  return outcomes;
}

/** Twenty-minute passes of virtual time over two token lifetimes, with kubelet calls after each. */
async function twentyMinutePasses(node: TestNode): Promise<Array<string | undefined>> {
  const outcomes: Array<string | undefined> = [];
  for (let pass = 0; pass < 6; pass++) {
    await node.advance(20 * MIN, 30_000);
    outcomes.push(...(await callAll(node)));
  }
  return outcomes;
}

/** The window's end in a 1-hour token's 45-minute fresh period (15m expiring threshold). */
const LATEST_PREWARM_POINT = DEFAULT_PREWARM_POLICY.windowEnd * 45 * MIN;

const setup = (c: Cloud): void => void c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });

describe('pre-warm in virtual time against the emulators', { concurrency: true }, () => {
  it('with the pre-warmer, every kubelet call after each 20-minute pass of time is a hit', () =>
    withCloud(async (c) => {
      setup(c);
      const node = await startNode(c, { prewarm: true });
      try {
        // The node serves both registries once: from then on they are "served lately".
        assert.deepEqual(await callAll(node), ['refreshed', 'refreshed']);
        const outcomes = await twentyMinutePasses(node);
        assert.deepEqual(outcomes, Array(12).fill('hit'), `kubelet outcomes: ${outcomes.join(' ')}`);
        // Two more hours with no kubelet call: 120 passes of a long-running process leave nothing
        // of the cache open behind them.
        const before = openUnder(c.cacheDir);
        await node.advance(2 * HOUR, 60_000);
        assert.ok(openUnder(c.cacheDir) <= before, `descriptors open in the cache directory: ${before}, then ${openUnder(c.cacheDir)}`);
        // Two hours of 1-hour tokens: the pre-warmer refreshed each registry at least twice.
        assert.ok(personalTokenCalls(c.e) >= 3 && eeTokenCalls(c.e) >= 3, `token calls: ${personalTokenCalls(c.e)} personal, ${eeTokenCalls(c.e)} enterprise`);
        assert.ok(node.logs.some((l) => /info: prewarmed host=registry\.cn-hangzhou\.aliyuncs\.com calls=\S*GetAuthorizationToken:ok:\d+ms validFor=\d+m next=in \d+m/.test(l)), node.logs.join('\n'));
      } finally {
        await node.stop();
      }
    }));

  it('without the pre-warmer, the same passes of time find tokens due (control)', () =>
    withCloud(async (c) => {
      setup(c);
      const node = await startNode(c, { prewarm: false });
      assert.deepEqual(await callAll(node), ['refreshed', 'refreshed']);
      const outcomes = await twentyMinutePasses(node);
      assert.ok(outcomes.includes('refreshed'), `kubelet outcomes: ${outcomes.join(' ')}`);
    }));

  /**
   * A CR API outage of 40 minutes, starting right after the pre-warmer has refreshed every
   * registry; kubelet calls every 5 minutes. Returns the outcomes of the calls during the outage.
   */
  async function outage(c: Cloud, node: TestNode, startsAfterMs: number): Promise<Array<string | undefined>> {
    await node.advance(startsAfterMs, 30_000);
    c.e.cr.injectFault('*', { status: 503, times: Infinity });
    const outcomes: Array<string | undefined> = [];
    for (let t = 0; t < 40 * MIN && !outcomes.includes('failed'); t += 5 * MIN) {
      await node.advance(5 * MIN, 30_000);
      outcomes.push(...(await callAll(node, false)));
    }
    c.e.state.faults.clear();
    return outcomes;
  }

  it('a 40-minute CR API outage right after a pre-warm refresh: every kubelet call is served', () =>
    withCloud(async (c) => {
      setup(c);
      const node = await startNode(c, { prewarm: true });
      try {
        const t0 = node.clock.now();
        assert.deepEqual(await callAll(node), ['refreshed', 'refreshed']);
        // Right after the pre-warmer's first refresh of both registries.
        await node.advance(HOUR, 30_000, async () => {
          if (tokenCalls(c) >= 4) throw new Stop();
        }).catch((e: unknown) => assert.ok(e instanceof Stop, String(e)));
        assert.equal(tokenCalls(c), 4, 'both registries pre-warmed once');
        assert.ok(node.clock.now() - t0 <= LATEST_PREWARM_POINT + MIN, 'pre-warmed within 0.8 of the fresh period');
        const outcomes = await outage(c, node, 0);
        assert.equal(outcomes.length, 16);
        assert.ok(!outcomes.includes('failed'), `outcomes: ${outcomes.join(' ')}`);
        assert.ok(node.logs.some((l) => /warn: pre-warm of .* failed \(.*\); the cached token stays in use for another \d+m; retrying in/.test(l)), 'the failed refreshes were logged');
        // After the outage the pre-warmer catches up: a later call is a hit on a new token.
        await node.advance(15 * MIN, 30_000);
        assert.deepEqual(await callAll(node), ['hit', 'hit']);
      } finally {
        await node.stop();
      }
    }));

  it('without the pre-warmer, an outage at the same time fails kubelet calls once the tokens expire (control)', () =>
    withCloud(async (c) => {
      setup(c);
      const node = await startNode(c, { prewarm: false });
      assert.deepEqual(await callAll(node), ['refreshed', 'refreshed']);
      // The latest the pre-warm run's outage can start: the most room this run could have.
      const outcomes = await outage(c, node, LATEST_PREWARM_POINT);
      assert.ok(outcomes.includes('failed'), `outcomes: ${outcomes.join(' ')}`);
    }));

  it('a cold node: the pre-warmer and 20 concurrent kubelet calls make one token call per registry, and so every refresh for 3 hours', () =>
    withCloud(async (c) => {
      setup(c);
      const registries = [{ domains: [PE_HOST] }, { domains: [EE] }];
      const node = await startNode(c, { prewarm: true, noFirstSettle: true, config: { registries } });
      try {
        const burst = async (n: number) => {
          const runs = await Promise.all(Array.from({ length: n }, (_, i) => node.kubelet(IMAGES[i % 2]!)));
          for (const { r } of runs) assert.equal(r.code, 0, r.stderr);
          return runs.map((x) => x.cache);
        };
        const cold = await burst(20);
        await node.settle();
        assert.equal(personalTokenCalls(c.e), 1, 'one Personal Edition token call');
        assert.equal(eeTokenCalls(c.e), 1, 'one Enterprise Edition token call');
        assert.ok(cold.every((o) => o === 'hit' || o === 'shared' || o === 'refreshed'), cold.join(' '));
        // Three hours; every 10 minutes a burst of kubelet calls, racing the pre-warmer's wake-ups.
        await node.advance(3 * HOUR, MIN, async () => {
          if (Math.round((node.clock.now() / MIN) % 10) === 0) assert.ok((await burst(6)).every((o) => o === 'hit'));
        });
        for (const region of ['personal', 'ee'] as const) {
          const issued = c.e.state.issuedTokens().filter((t) => (region === 'personal' ? t.instanceId === null : t.instanceId !== null));
          // Refreshed at the latest at the window's end of each 45-minute fresh period.
          const least = 1 + Math.floor((3 * HOUR) / LATEST_PREWARM_POINT);
          assert.ok(issued.length >= least, `${region}: refreshed through three hours (${issued.length} tokens, expected ${least} at least)`);
          // One call per refresh: never two tokens for a registry within one refresh window.
          const earliest = DEFAULT_PREWARM_POLICY.windowStart * 45 * MIN;
          for (let i = 1; i < issued.length; i++) assert.ok(issued[i]!.issuedAt - issued[i - 1]!.issuedAt >= earliest - MIN, `${region}: tokens ${i - 1} and ${i} issued ${Math.round((issued[i]!.issuedAt - issued[i - 1]!.issuedAt) / 1000)}s apart`);
        }
      } finally {
        await node.stop();
      }
    }));

  it('a pre-warmer writing a cache the kubelet path does not share: the cold burst makes two token calls per registry (control)', () =>
    withCloud(async (c) => {
      setup(c);
      const registries = [{ domains: [PE_HOST] }, { domains: [EE] }];
      const node = await startNode(c, { prewarm: true, noFirstSettle: true, config: { registries }, kubeletCacheDir: otherCacheDir(c) });
      try {
        await Promise.all(Array.from({ length: 20 }, (_, i) => node.kubelet(IMAGES[i % 2]!)));
        await node.settle();
        assert.equal(personalTokenCalls(c.e), 2);
        assert.equal(eeTokenCalls(c.e), 2);
      } finally {
        await node.stop();
      }
    }));
});

class Stop extends Error {}

/** Descriptors of this process open on `dir` or anything in it. */
function openUnder(dir: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}
