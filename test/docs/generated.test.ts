// What is derived from the host-form table (src/acr/host-forms.ts) matches it: the README's table of
// recognised registries, the example CredentialProviderConfig's matchImages, and the matchImages
// the installer writes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { GENERATED_PARTS, regenerate } from '../../packaging/build/generated-docs.ts';
import { builtinMatchImages, HOST_FORMS } from '../../src/acr/host-forms.ts';
import { buildProviderEntry } from '../../src/install/credential-config/entry.ts';
import { parseKubeletVersion } from '../../src/install/kubelet/version.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('generated documentation', () => {
  for (const part of GENERATED_PARTS) {
    it(`${part.file} is up to date with src/acr/host-forms.ts (else: npm run generate)`, () => {
      const text = readFileSync(join(ROOT, part.file), 'utf8');
      assert.equal(regenerate(text, part), text);
    });
  }

  it('the example config and the installer route the same patterns to the provider', () => {
    const example = parse(readFileSync(join(ROOT, 'kubelet-config.example.yaml'), 'utf8')) as { providers: Array<{ matchImages: string[] }> };
    const installed = buildProviderEntry({ version: parseKubeletVersion('Kubernetes v1.31.0'), nodeProviderConfigPath: '/etc/x/config.json', providerConfig: {} });
    assert.deepEqual(example.providers[0]?.matchImages, builtinMatchImages());
    assert.deepEqual(installed.matchImages, builtinMatchImages());
  });

  it('every form\'s patterns end in its domain and have its label count ("*" never spans a dot)', () => {
    for (const [kind, form] of Object.entries(HOST_FORMS)) {
      assert.ok(form.matchImages.length > 0, kind);
      for (const pattern of form.matchImages) {
        assert.ok(pattern.endsWith(`.${form.domain}`), `${pattern} ends in .${form.domain}`);
        assert.equal(pattern.split('.').length, 2 + form.domain.split('.').length, `${pattern}: <label>.<region>.${form.domain}`);
      }
    }
  });
});
