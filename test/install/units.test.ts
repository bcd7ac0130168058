// Table tests of the installer's pure parts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildProviderEntry, buildTokenAttributes } from '../../src/install/credential-config/entry.ts';
import { mergeEntry, removeEntry } from '../../src/install/credential-config/merge.ts';
import { validateCredentialProviderConfig } from '../../src/install/credential-config/validate.ts';
import { ProviderError } from '../../src/errors.ts';
import { flagValue, hasCredentialProviderGate } from '../../src/install/kubelet/argv.ts';
import { apiChoice, parseKubeletVersion } from '../../src/install/kubelet/version.ts';
import { appendToEnvVar, parseEnvFile, removeWords } from '../../src/install/systemd/env-file.ts';
import { expandExecStart, serviceDirectives } from '../../src/install/systemd/unit.ts';

const v = (s: string) => parseKubeletVersion(s);

describe('env files', () => {
  const cases: [string | undefined, string][] = [
    [undefined, 'X="--a=1 --b=2"\n'],
    ['', 'X="--a=1 --b=2"\n'],
    ['X=\n', 'X=--a=1 --b=2\n'],
    ['X=""\n', 'X="--a=1 --b=2"\n'],
    ['X="--v=2"\n', 'X="--v=2 --a=1 --b=2"\n'],
    ["X='--v=2'\n", "X='--v=2 --a=1 --b=2'\n"],
    ['# c\nX=--v=2   \nY=1\n', '# c\nX=--v=2 --a=1 --b=2   \nY=1\n'],
    ['X="1"\nX="2"\n', 'X="1"\nX="2 --a=1 --b=2"\n'],
    ['Y=1', 'Y=1\nX="--a=1 --b=2"\n'],
    ['X="--a \\\n --c"\n', 'X="--a \\\n --c --a=1 --b=2"\n'],
  ];
  for (const [input, expected] of cases) {
    it(`appends to ${JSON.stringify(input)}`, () => assert.equal(appendToEnvVar(input, 'X', ['--a=1', '--b=2']), expected));
  }
  for (const [input] of cases.filter(([i]) => i !== undefined && /^(# c\n)?X=/m.test(i))) {
    it(`removing what was appended to ${JSON.stringify(input)} gives it back`, () => assert.equal(removeWords(appendToEnvVar(input, 'X', ['--a=1', '--b=2']), ['--a=1', '--b=2']), input));
  }
  it('removes whole words only, wherever they stand', () => {
    assert.equal(removeWords('X="--a=1.bak --v=2 --a=1"\nY=--a=1\n', ['--a=1']), 'X="--a=1.bak --v=2"\nY=\n');
  });
  it('reads values as systemd does', () => {
    assert.deepEqual([...parseEnvFile('A="x y"\n# B=no\nexport C=\'z\'\nD=plain value  \n')], [['A', 'x y'], ['C', 'z'], ['D', 'plain value']]);
  });
});

describe('units', () => {
  it('joins continuation lines and keeps only [Service]', () => {
    const d = serviceDirectives('[Unit]\nDescription=x\n[Service]\nExecStart=/bin/k \\\n  --a \\\n  --b\nEnvironment="A=1 2" B=3\n');
    assert.deepEqual(d, [{ key: 'ExecStart', value: '/bin/k --a --b' }, { key: 'Environment', value: '"A=1 2" B=3' }]);
  });
  it('expands $VAR into words and ${VAR} into one word', () => {
    const env = new Map([['A', '--x=1  --y=2'], ['B', 'c d']]);
    assert.deepEqual(expandExecStart('-/usr/bin/kubelet $A --z=${B} $MISSING', env), ['/usr/bin/kubelet', '--x=1', '--y=2', '--z=c d']);
  });
});

describe('kubelet flags and versions', () => {
  it('finds flag values in both forms, the last one winning', () => {
    assert.equal(flagValue(['k', '--image-credential-provider-config', '/a', '--image-credential-provider-config=/b'], '--image-credential-provider-config'), '/b');
    assert.equal(flagValue(['k', '--image-credential-provider-config-x=/a'], '--image-credential-provider-config'), undefined);
  });
  it('sees the feature gate in any --feature-gates', () => {
    assert.equal(hasCredentialProviderGate(['--feature-gates=A=true,KubeletCredentialProviders=true']), true);
    assert.equal(hasCredentialProviderGate(['--feature-gates', 'KubeletCredentialProviders=false']), false);
  });
  const table: [string, string, boolean][] = [
    ['Kubernetes v1.20.0', 'v1alpha1', true],
    ['v1.23.17', 'v1alpha1', true],
    ['Kubernetes v1.24.0', 'v1beta1', false],
    ['v1.25.16', 'v1beta1', false],
    ['k3s version v1.26.1+k3s1 (abc)', 'v1', false],
    ['1.34', 'v1', false],
  ];
  for (const [text, api, gate] of table) {
    it(`${text} -> ${api}${gate ? ' + gate' : ''}`, () => {
      const c = apiChoice(v(text));
      assert.equal(c.configApiVersion, `kubelet.config.k8s.io/${api}`);
      assert.equal(c.providerApiVersion, `credentialprovider.kubelet.k8s.io/${api}`);
      assert.equal(c.needsFeatureGate, gate);
    });
  }
  it('refuses < 1.20 and unreadable versions', () => {
    assert.throws(() => apiChoice(v('v1.19.9')), ProviderError);
    assert.throws(() => parseKubeletVersion('garbage'), /--kubelet-version/);
  });
});

describe('tokenAttributes per version', () => {
  const input = { serviceAccountTokenAudience: 'acr', requireServiceAccount: true, cacheType: 'Token' as const };
  it('is refused before 1.33', () => assert.throws(() => buildTokenAttributes(input, v('v1.32.0')), /1\.33 or later/));
  it('has no cacheType in 1.33 and the 1.33 validator accepts it', () => {
    const t = buildTokenAttributes(input, v('v1.33.0'));
    assert.deepEqual(t, { serviceAccountTokenAudience: 'acr', requireServiceAccount: true });
    const entry = buildProviderEntry({ version: v('v1.33.0'), nodeProviderConfigPath: '/c.json', providerConfig: {}, tokenAttributes: input });
    const doc = { apiVersion: 'kubelet.config.k8s.io/v1', kind: 'CredentialProviderConfig', providers: [entry] };
    assert.deepEqual(validateCredentialProviderConfig(doc, { version: v('v1.33.0'), serviceAccountTokenGate: true }), []);
    assert.match(validateCredentialProviderConfig(doc, { version: v('v1.33.0'), serviceAccountTokenGate: false })[0] ?? '', /feature gate is disabled/);
    assert.match(validateCredentialProviderConfig(doc, { version: v('v1.34.0'), serviceAccountTokenGate: true })[0] ?? '', /cacheType is required/);
  });
  it('has cacheType from 1.34 (default ServiceAccount) and 1.33 rejects it', () => {
    const t = buildTokenAttributes({ serviceAccountTokenAudience: 'acr', requireServiceAccount: false }, v('v1.34.0'));
    assert.deepEqual(t, { serviceAccountTokenAudience: 'acr', cacheType: 'ServiceAccount', requireServiceAccount: false });
    const doc = { apiVersion: 'kubelet.config.k8s.io/v1', kind: 'CredentialProviderConfig', providers: [{ ...buildProviderEntry({ version: v('v1.34.0'), nodeProviderConfigPath: '/c', providerConfig: {} }), tokenAttributes: t }] };
    assert.deepEqual(validateCredentialProviderConfig(doc, { version: v('v1.34.0'), serviceAccountTokenGate: true }), []);
    assert.match(validateCredentialProviderConfig(doc, { version: v('v1.33.0'), serviceAccountTokenGate: true })[0] ?? '', /unknown field "providers\[0\]\.tokenAttributes\.cacheType"/);
  });
});

describe('CredentialProviderConfig validation', () => {
  const ctx = { version: v('v1.30.0'), serviceAccountTokenGate: false };
  const good = { name: 'p', matchImages: ['*.example.com'], defaultCacheDuration: '10m', apiVersion: 'credentialprovider.kubelet.k8s.io/v1' };
  const doc = (providers: unknown[], extra: Record<string, unknown> = {}) => ({ apiVersion: 'kubelet.config.k8s.io/v1', kind: 'CredentialProviderConfig', providers, ...extra });
  const table: [string, unknown, RegExp][] = [
    ['no providers', doc([]), /at least 1 item in plugins/],
    ['empty matchImages', doc([{ ...good, matchImages: [] }]), /at least 1 item in matchImages/],
    ['bad matchImages', doc([{ ...good, matchImages: ['%invalid%'] }]), /match image is invalid/],
    ['port not numeric', doc([{ ...good, matchImages: ['host:abc'] }]), /match image is invalid/],
    ['negative duration', doc([{ ...good, defaultCacheDuration: '-1m' }]), /greater than or equal to 0/],
    ['missing duration', doc([{ ...good, defaultCacheDuration: undefined }]), /defaultCacheDuration: Required/],
    ['name with /', doc([{ ...good, name: 'foo/../bar' }]), /cannot contain '\/'/],
    ['name with space', doc([{ ...good, name: 'foo bar' }]), /cannot contain spaces/],
    ['name ..', doc([{ ...good, name: '..' }]), /cannot be '\.\.'/],
    ['duplicate', doc([good, good]), /duplicate provider name "p"/],
    ['unknown field', doc([{ ...good, unknownField: 1 }]), /unknown field "providers\[0\]\.unknownField"/],
    ['wrong kind', { ...doc([good]), kind: 'WrongKind' }, /kind must be CredentialProviderConfig/],
    ['v1 config on 1.25', doc([good]), /not one kubelet v1\.25\.0 accepts/],
    ['tokenAttributes in v1beta1', { ...doc([{ ...good, apiVersion: 'credentialprovider.kubelet.k8s.io/v1beta1', tokenAttributes: {} }]), apiVersion: 'kubelet.config.k8s.io/v1beta1' }, /unknown field "providers\[0\]\.tokenAttributes"/],
  ];
  for (const [name, input, pattern] of table) {
    it(name, () => {
      const version = name === 'v1 config on 1.25' ? v('v1.25.0') : ctx.version;
      const problems = validateCredentialProviderConfig(JSON.parse(JSON.stringify(input)), { ...ctx, version });
      assert.ok(problems.some((p) => pattern.test(p)), problems.join(' | '));
    });
  }
  it('accepts a v1 config with a v1alpha1 plugin, env and args', () => {
    assert.deepEqual(validateCredentialProviderConfig(doc([{ ...good, apiVersion: 'credentialprovider.kubelet.k8s.io/v1alpha1', args: ['a'], env: [{ name: 'A', value: 'b' }] }]), ctx), []);
  });
});

describe('merge', () => {
  const entry = buildProviderEntry({ version: v('v1.30.0'), nodeProviderConfigPath: '/c.json', providerConfig: {} });
  const other = '  - name: other # theirs\n    matchImages: ["example.com"]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n';
  const head = '# ops owns this file\napiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n';
  it('removing our entry from YAML cuts its lines and keeps every other byte', () => {
    const merged = mergeEntry(`${head}${other}`, entry, '/x');
    const edited = merged.replace('defaultCacheDuration: 1m', 'defaultCacheDuration: 5m');
    const { text, remaining } = removeEntry(edited, '/x');
    assert.equal(remaining, 1);
    assert.equal(text, edited.replace(/  - name: aliyun-acr-credential-provider\n(?: {4}.*\n)*/, ''));
  });
  it('removing our entry from JSON or a flow sequence keeps the others', () => {
    const json = JSON.stringify({ apiVersion: 'kubelet.config.k8s.io/v1', kind: 'CredentialProviderConfig', providers: [{ name: 'other' }, entry] }, null, 4);
    assert.deepEqual(JSON.parse(removeEntry(json, '/x.json').text).providers, [{ name: 'other' }]);
    const flow = `apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: [{name: other}, {name: aliyun-acr-credential-provider, matchImages: [a]}]\n`;
    const r = removeEntry(flow, '/x');
    assert.equal(r.remaining, 1);
    assert.match(r.text, /providers: \[ \{ name: other \} \]/);
  });
  it('a file without our entry is left as it is', () => {
    assert.deepEqual(removeEntry(`${head}${other}`, '/x'), { text: `${head}${other}`, remaining: 1 });
  });
  it('leaves a file that already has our exact entry byte-identical', () => {
    const once = mergeEntry('apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n', entry, '/x');
    assert.equal(mergeEntry(once, entry, '/x'), once);
  });
});
