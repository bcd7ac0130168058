// The parts of README.md and kubelet-config.example.yaml that are derived from the host-form table
// (src/acr/host-forms.ts), between marker lines. `npm run generate` rewrites them; with --check it
// only says which file is stale (exit 1). test/docs/generated.test.ts keeps them equal.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_FORMS } from '../../src/acr/host-forms.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface GeneratedPart {
  file: string;
  begin: string;
  end: string;
  render(): string;
}

const forms = Object.values(HOST_FORMS);
const labelCount = (pattern: string) => pattern.split('.').length;

/** The README's "Registries it recognises" table: the built-in forms, then custom domains (configuration, not a host form). */
function registriesTable(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = forms.map((f) => `| ${f.docs.name} | \`${cell(f.docs.grammar)}\` | ${cell(f.docs.token)} |`);
  rows.push('| custom domain | listed under `registries` in the config file | `instanceId` from the entry, or discovered with `ListInstance` + `ListInstanceEndpoint`; region from `regionId` or the node\'s region |');
  return ['| form | example | how the token is obtained |', '|---|---|---|', ...rows].join('\n');
}

/** The example CredentialProviderConfig's matchImages: each form's patterns, then all of them with :443. */
function matchImagesYaml(): string {
  const indent = '      ';
  const lines = forms.flatMap((f) => [`# ${f.docs.name}: ${f.docs.grammar} (${labelCount(f.matchImages[0]!)} labels)`, ...f.matchImages.map((p) => `- "${p}"`)]);
  lines.push('# The same hosts with the HTTPS port spelled out (registry.cn-hangzhou.aliyuncs.com:443/ns/app):', '# a pattern without a port never matches an image with one.');
  lines.push(...forms.flatMap((f) => f.matchImages.map((p) => `- "${p}:443"`)));
  return lines.map((l) => indent + l).join('\n');
}

export const GENERATED_PARTS: readonly GeneratedPart[] = [
  { file: 'README.md', begin: '<!-- generated from src/acr/host-forms.ts by `npm run generate`: edit there -->', end: '<!-- end of generated table -->', render: registriesTable },
  { file: 'kubelet-config.example.yaml', begin: '      # generated from src/acr/host-forms.ts by `npm run generate`: edit there', end: '      # end of generated patterns', render: matchImagesYaml },
];

/** `text` with the part between the markers rendered anew; throws when a marker is missing. */
export function regenerate(text: string, part: GeneratedPart): string {
  const start = text.indexOf(`${part.begin}\n`);
  const stop = text.indexOf(`\n${part.end}`, start);
  if (start === -1 || stop === -1) throw new Error(`${part.file}: the marker lines of the generated part are missing`);
  return `${text.slice(0, start + part.begin.length + 1)}${part.render()}${text.slice(stop)}`;
}

function main(check: boolean): number {
  let stale = 0;
  for (const part of GENERATED_PARTS) {
    const path = join(ROOT, part.file);
    const text = readFileSync(path, 'utf8');
    const fresh = regenerate(text, part);
    if (fresh === text) continue;
    stale++;
    if (check) process.stderr.write(`${part.file} is stale: run npm run generate\n`);
    else writeFileSync(path, fresh);
  }
  return check && stale > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.includes('--check'));
