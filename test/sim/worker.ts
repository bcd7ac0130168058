// One fleet run in a worker thread (run.ts runs them two at a time: a 2-core machine).
import { parentPort, workerData } from 'node:worker_threads';
import { runFleet, type FleetOptions } from './fleet.ts';

const result = await runFleet(workerData as FleetOptions);
parentPort!.postMessage({ ...result, outcomes: [...result.outcomes] });
