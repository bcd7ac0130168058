// Entry point for tests and the demo: starts IMDS and the per-region CR API servers around
// one shared CloudState, and tears everything down with a single close().
import { CloudState } from './cloud-state.ts';
import type { CallFilter, CallRecord } from './cloud-state.ts';
import { startCrServers } from './cr-server.ts';
import type { FaultSpec } from './faults.ts';
import { startImdsServer } from './imds-server.ts';
import type { ImdsMode } from './imds-server.ts';
import { startStsServer, type StsServer } from './sts-server.ts';

export { CloudState, DEFAULT_ACCOUNT_ID, accountOf } from './cloud-state.ts';
export type { AccessKeyRecord, AddInstanceInput, CallFilter, CallRecord, EeInstance, IssuedRegistryToken, OidcProvider, RamRole, StsCredentials, TrustPolicy } from './cloud-state.ts';
export { mintServiceAccountToken, saUid } from './oidc-tokens.ts';
export type { ServiceAccountTokenInput } from './oidc-tokens.ts';
export type { FaultSpec } from './faults.ts';
export type { ImdsMode } from './imds-server.ts';
export { imdsTime, roleIdentity } from './imds-server.ts';

export const DEFAULT_REGIONS = ['cn-hangzhou', 'cn-shanghai', 'cn-beijing', 'ap-southeast-1', 'cn-shanghai-finance-1'] as const;

export interface EmulatorOptions {
  regions?: readonly string[];
  /** Region IMDS reports. */
  nodeRegion?: string;
  /** RAM role attached to the node; its identity in CloudState is "role/<roleName>". null = none. */
  roleName?: string | null;
  imdsMode?: ImdsMode;
  /** Also start the STS emulator (AssumeRole, AssumeRoleWithOIDC); its URL is `sts.url`. */
  sts?: boolean;
}

export interface Emulators {
  imds: {
    url: string;
    setMode(m: ImdsMode): void;
    setRole(name: string | null): void;
    setRegion(r: string): void;
    injectFault(pathPrefix: string, fault: FaultSpec): void;
  };
  cr: {
    endpoints(): Record<string, string>;
    injectFault(action: string, fault: FaultSpec, region?: string): void;
  };
  /** Present when started with `sts: true`. */
  sts?: { url: string; injectFault(action: string, fault: FaultSpec): void };
  state: CloudState;
  calls(filter?: CallFilter): CallRecord[];
  resetCalls(): void;
  close(): Promise<void>;
}

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const state = new CloudState();
  const imds = await startImdsServer({
    state,
    regionId: options.nodeRegion ?? 'cn-hangzhou',
    roleName: options.roleName === undefined ? 'acr-node-role' : options.roleName,
    mode: options.imdsMode ?? 'optional',
  });
  let cr;
  try {
    cr = await startCrServers({ state, regions: options.regions ?? DEFAULT_REGIONS });
  } catch (err) {
    await imds.close();
    throw err;
  }
  const crServers = cr;
  let sts: StsServer | undefined;
  if (options.sts) {
    try {
      sts = await startStsServer({ state });
    } catch (err) {
      await Promise.all([imds.close(), crServers.close()]);
      throw err;
    }
  }
  let closing: Promise<void> | undefined;
  return {
    ...(sts ? { sts: { url: sts.url, injectFault: sts.injectFault } } : {}),
    imds: {
      url: imds.url,
      setMode: imds.setMode,
      setRole: imds.setRole,
      setRegion: imds.setRegion,
      injectFault: imds.injectFault,
    },
    cr: { endpoints: crServers.endpoints, injectFault: crServers.injectFault },
    state,
    calls: (filter) => state.calls(filter),
    resetCalls: () => state.resetCalls(),
    close: () => (closing ??= Promise.all([imds.close(), crServers.close(), sts?.close()]).then(() => undefined)),
  };
}
