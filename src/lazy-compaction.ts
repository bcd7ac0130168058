// Folding the counters journal into totals.json, run now and then on a miss (cli/invocation.ts),
// never on a hit. Embedded compressed (packaging/build/bundle.ts).
export { compact as compactCounters } from './metrics/counters.ts';
