// Hostile input. Property-based (fast-check): the stdin decoder only ever returns a request or
// throws ProviderError('input'), with a one-line message that never echoes a token; host classification
// never throws and never recognises a string that is not one of the ACR grammars, whatever
// look-alike is generated (suffixes, prefixes, extra labels, ports, userinfo, paths, homoglyph
// swaps, case). Then a smaller black-box fuzz through the built CLI.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { classifyRegistryHost } from '../../src/acr/registry-host.ts';
import { ProviderError } from '../../src/errors.ts';
import { decodeRequest } from '../../src/kubelet/request.ts';
import { withCloud } from '../helpers/cloud.ts';
import { assertNoStackTrace, parseResponse } from '../helpers/run-provider.ts';

const RUNS = 3000;

// --- an independent oracle of the ACR host grammars ------------------------------------------
// Each may end in ":443" (the HTTPS port spelled out); no other port.
const REGION = '[a-z]{2}(?:-[a-z0-9]+)+';
const PORT = '(?::443)?';
const ORACLE = [
  new RegExp(`^registry(?:-intl)?(?:-vpc|-internal)?\\.${REGION}\\.aliyuncs\\.com${PORT}$`),
  new RegExp(`^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]-registry(?:-vpc)?\\.${REGION}\\.cr\\.aliyuncs\\.com${PORT}$`),
  new RegExp(`^crpi-[a-z0-9]+(?:-vpc)?\\.${REGION}\\.personal\\.cr\\.aliyuncs\\.com${PORT}$`),
];
const isAcrForm = (host: string): boolean => {
  const lower = host.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
  return lower.split('.').every((l) => l.length <= 63) && ORACLE.some((re) => re.test(lower));
};
const ACR_KINDS = new Set(['personal', 'enterprise', 'personal-dedicated']);

const region = fc.constantFrom('cn-hangzhou', 'cn-shanghai', 'ap-southeast-1', 'cn-shanghai-finance-1', 'us-west-1', 'eu-central-1');
const instance = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/);
const validHost = fc.oneof(
  fc.tuple(fc.constantFrom('registry', 'registry-intl', 'registry-vpc', 'registry-intl-vpc', 'registry-internal'), region).map(([p, r]) => `${p}.${r}.aliyuncs.com`),
  fc.tuple(instance, fc.boolean(), region).map(([n, vpc, r]) => `${n}-registry${vpc ? '-vpc' : ''}.${r}.cr.aliyuncs.com`),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{4,12}$/), fc.boolean(), region).map(([id, vpc, r]) => `crpi-${id}${vpc ? '-vpc' : ''}.${r}.personal.cr.aliyuncs.com`),
);

const HOMOGLYPHS: Array<[string, string]> = [['l', '1'], ['o', '0'], ['i', 'l'], ['m', 'rn'], ['-', '_'], ['.', '-'], ['-', '.'], ['a', 'а'], ['e', 'е'], ['c', 'ϲ'], ['.', '。'], ['s', '$'], ['y', 'ү'], ['k', 'K']];

/** One mutation of a valid host into something that may or may not still be valid. */
type Mutation = (h: string) => string;
const mutation: fc.Arbitrary<Mutation> = fc.oneof<fc.Arbitrary<Mutation>[]>(
  fc.constantFrom('.evil.com', '.com', '.cn', '.aliyuncs.com', '-', '.', '..', ':443', ':5000', ':444', ':4430', ':0443', ':', '/v2', '/', '?x', '#', '@evil.com', '%2e', '\u0000', ' ', '\n').map((s) => (h: string) => h + s),
  fc.constantFrom('x', 'x.', 'evil.', 'registry.', 'user@', 'user:pass@', 'https://', '//', '.', '-', '[', ' ').map((s) => (h: string) => s + h),
  fc.tuple(fc.nat(), fc.constantFrom(...HOMOGLYPHS)).map(([n, [from, to]]) => (h: string) => {
    const idx = [...h.matchAll(new RegExp(from.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'), 'g'))].map((m) => m.index);
    if (idx.length === 0) return h;
    const at = idx[n % idx.length]!;
    return h.slice(0, at) + to + h.slice(at + from.length);
  }),
  fc.tuple(fc.nat(), fc.stringMatching(/^[a-z0-9-]{1,10}$/)).map(([n, label]) => (h: string) => {
    const labels = h.split('.');
    labels.splice(n % (labels.length + 1), 0, label);
    return labels.join('.');
  }),
  fc.nat().map((n) => (h: string) => {
    const labels = h.split('.');
    labels.splice(n % labels.length, 1);
    return labels.join('.');
  }),
  fc.constant((h: string) => h.toUpperCase()),
  fc.constant((h: string) => h.replace('aliyuncs', 'aliyuncs-com')),
  fc.constant((h: string) => h.replace('.cr.', '.')),
  fc.constant((h: string) => h.replace('registry', 'regstry')),
);
const lookAlike = fc.tuple(validHost, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([h, ms]) => ms.reduce<string>((acc, m) => m(acc), h));

describe('host classification under fuzzing', () => {
  it('every generated valid ACR host is recognised, with its region', () => {
    fc.assert(
      fc.property(validHost, (host) => {
        const t = classifyRegistryHost(host);
        assert.ok(ACR_KINDS.has(t.kind), `${host} → ${t.kind}`);
        assert.equal((t as { region: string }).region, host.split('.')[1]);
      }),
      { numRuns: RUNS },
    );
  });

  it('look-alikes: recognised only if they still are exactly an ACR form (never throws)', () => {
    let rejected = 0;
    fc.assert(
      fc.property(lookAlike, (host) => {
        const t = classifyRegistryHost(host);
        if (ACR_KINDS.has(t.kind)) assert.ok(isAcrForm(host), `look-alike accepted: ${JSON.stringify(host)} → ${t.kind}`);
        else rejected++;
        assert.equal(t.host, host);
      }),
      { numRuns: RUNS * 2 },
    );
    assert.ok(rejected > RUNS / 2, `the generator produced real look-alikes (${rejected} rejected)`);
  });

  it('arbitrary strings: never recognised unless of an ACR form; never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.webUrl(), fc.domain()), (host) => {
        const t = classifyRegistryHost(host);
        if (ACR_KINDS.has(t.kind)) assert.ok(isAcrForm(host), JSON.stringify(host));
      }),
      { numRuns: RUNS },
    );
  });

  it('a custom domain entry matches only that domain (case-insensitively), never a look-alike of it', () => {
    const registries = [{ domains: ['registry.corp.example'] }];
    fc.assert(
      fc.property(fc.tuple(fc.constant('registry.corp.example'), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([h, ms]) => ms.reduce<string>((a, m) => m(a), h)), (host) => {
        const t = classifyRegistryHost(host, registries);
        if (t.kind === 'custom') assert.equal(host.replace(/[A-Z]/g, (ch) => ch.toLowerCase()), 'registry.corp.example');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('stdin decoding under fuzzing', () => {
  const SECRET = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ1enoifQ.c2VjcmV0LXNhLXRva2Vu';
  const decodeOnlyRequestError = (raw: string): void => {
    try {
      const r = decodeRequest(raw);
      assert.equal(typeof r.image, 'string');
      assert.ok(r.image.length > 0);
      assert.match(r.apiVersion, /^credentialprovider\.kubelet\.k8s\.io\/v1(beta1|alpha1)?$/);
    } catch (error) {
      assert.ok(error instanceof ProviderError && error.errorClass === 'input', `not an input error: ${String(error)}`);
      assert.doesNotMatch(error.message, /\n/);
      assert.ok(!error.message.includes(SECRET), 'a token is never echoed');
      assert.ok(error.message.length < 300);
    }
  };

  it('arbitrary text and bytes', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.json()), decodeOnlyRequestError), { numRuns: RUNS });
  });

  it('request-shaped objects with wrong, missing, extra and hostile fields', () => {
    const value = fc.oneof(fc.string(), fc.constant(SECRET), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), fc.constant('CredentialProviderRequest'), fc.constantFrom('credentialprovider.kubelet.k8s.io/v1', 'credentialprovider.kubelet.k8s.io/v1beta1', 'credentialprovider.kubelet.k8s.io/v2', 'v1'));
    // kind and apiVersion are quoted (64 characters at most) in their error messages by design;
    // the kubelet writes them. The token may sit in any field the kubelet fills from the pod.
    const quoted = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }));
    const doc = fc.record(
      {
        kind: fc.oneof(fc.constant('CredentialProviderRequest'), quoted),
        apiVersion: fc.oneof(fc.constantFrom('credentialprovider.kubelet.k8s.io/v1', 'credentialprovider.kubelet.k8s.io/v1alpha1'), quoted),
        image: fc.oneof(lookAlike, value),
        serviceAccountToken: fc.oneof(fc.constant(SECRET), value),
        serviceAccountAnnotations: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.constant(SECRET))), value),
        __proto__: value,
        constructor: value,
      },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(doc, fc.boolean(), fc.constantFrom('', '\ufeff', ' \n'), (d, pretty, prefix) => decodeOnlyRequestError(prefix + JSON.stringify(d, null, pretty ? 2 : 0))), { numRuns: RUNS });
  });

  it('oversized input is refused as bad input', () => {
    decodeOnlyRequestError(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"${'a'.repeat(300 * 1024)}"}`);
    assert.throws(() => decodeRequest(' '.repeat(257 * 1024)), (e: unknown) => e instanceof ProviderError && e.errorClass === 'input');
  });
});

describe('black-box fuzz through the built CLI', () => {
  it('60 hostile stdin payloads: exit 0/1/2 only, nothing on stdout on failure, no stack trace, one line', () =>
    withCloud(async (c) => {
      const payloads = fc.sample(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.json(),
          lookAlike.map((h) => `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":${JSON.stringify(`${h}/ns/app`)}}`),
          fc.constantFrom('', '{}', '[]', 'null', '{"kind":"CredentialProviderRequest"}', '\u0000\u0001', '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.cn-hangzhou.aliyuncs.com:443/ns/app"}'),
        ),
        { numRuns: 60, seed: 20261128 },
      );
      // A few at a time: these are real processes on a shared machine.
      for (let i = 0; i < payloads.length; i += 6) {
        const batch = await Promise.all(payloads.slice(i, i + 6).map((stdin) => c.run({ stdin, args: ['--timeout', '10s'] })));
        batch.forEach((r, j) => {
          const label = JSON.stringify(payloads[i + j]).slice(0, 120);
          assert.ok([0, 1, 2].includes(r.code ?? -1), `exit ${r.code} for ${label}`);
          assertNoStackTrace(r.stderr);
          if (r.code === 0) parseResponse(r.stdout);
          else {
            assert.equal(r.stdout, '', `stdout on failure for ${label}`);
            assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${label}: ${r.stderr}`);
          }
        });
      }
    }));
});
