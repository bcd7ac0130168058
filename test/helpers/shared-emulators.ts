// One set of emulators for all the tests of a file: started before the first test, closed after
// the last, the call log and injected faults cleared before each test. `prepare` runs once after
// the start (instances, keys, roles), `reset` before each test after the clearing.
import { after, before, beforeEach } from 'node:test';
import { startEmulators, type EmulatorOptions, type Emulators } from '../emulators/index.ts';

export interface SharedEmulatorHooks {
  prepare?(e: Emulators): void;
  reset?(e: Emulators): void;
}

/**
 * Stands for the emulators the `before` hook starts: use it inside tests and hooks (through a
 * proxy, so suites keep writing `e.state`), never at module load.
 */
export function sharedEmulators(options: EmulatorOptions = {}, hooks: SharedEmulatorHooks = {}): Emulators {
  let current: Emulators | undefined;
  const started = (): Emulators => {
    if (!current) throw new Error('the shared emulators are used before they started (at module load?)');
    return current;
  };
  before(async () => {
    current = await startEmulators(options);
    hooks.prepare?.(current);
  });
  after(() => current?.close());
  beforeEach(() => {
    started().resetCalls();
    started().state.faults.clear();
    hooks.reset?.(started());
  });
  return new Proxy({} as Emulators, { get: (_, key) => started()[key as keyof Emulators] });
}
