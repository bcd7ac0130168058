// The full yargs command line (every subcommand but kubelet mode's fast path), loaded by
// main.ts only when argv is not kubelet mode's. Embedded compressed (packaging/build/bundle.ts).
export { runCli } from './cli/yargs-cli.ts';
