// Standalone emulators for the demo and manual testing:
//   node test/emulators/serve.ts  →  prints {"imdsUrl":…,"crEndpoints":{…},"stsUrl":…,"instances":[…]} and runs until SIGINT/SIGTERM.
import { startEmulators } from './index.ts';

const emulators = await startEmulators({ sts: true });
const instances = [
  emulators.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme-prod', userDomains: ['registry.acme.example'] }),
  emulators.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'acme-dr' }),
].map((i) => ({ instanceId: i.instanceId, instanceName: i.instanceName, regionId: i.regionId, userDomains: i.userDomains }));

process.stdout.write(JSON.stringify({ imdsUrl: emulators.imds.url, crEndpoints: emulators.cr.endpoints(), stsUrl: emulators.sts?.url, instances }) + '\n');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  emulators.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
