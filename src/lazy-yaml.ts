// The YAML parser, embedded and compiled only when a config file is not JSON (the installer
// writes JSON on nodes; people write YAML). See packaging/build/bundle.ts.
import { parse } from 'yaml';

export function parseYaml(text: string): unknown {
  return parse(text, { prettyErrors: false, uniqueKeys: true });
}
