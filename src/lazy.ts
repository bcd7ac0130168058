// Everything a kubelet cache hit does not need: the miss path (cloud SDKs, metadata client,
// lock) and the full yargs command line. Imported dynamically only; the bundler ships this
// part as an embedded module that is compiled only when first used (packaging/build/bundle.ts).
export { refreshToken } from './provider/refresh.ts';
export { runCli } from './cli/yargs-cli.ts';
export { compact as compactCounters } from './metrics/counters.ts';
