// The RAM permissions the provider needs, checked with harmless calls: ListInstance (one page of
// one), ListInstanceEndpoint and GetAuthorizationToken on the instances the registries actually
// resolve to (so a policy scoped to instance ARNs is judged on those), reported as "allowed for
// <instance>" / "denied for <instance>". Only when no instance is known is a made-up id used, and
// then a denial is a warning: a policy that names its instances denies any other id too.
import { describeError, isProviderError } from '../errors.ts';
import type { CloudSession } from '../provider/cloud-session.ts';
import type { TokenAttempt } from './registry-checks.ts';
import type { Check } from './report.ts';

/** An instance id that does not exist: "not found" means "allowed" for it. */
const MADE_UP_INSTANCE_ID = 'cri-aliyun-acr-doctor-probe';

export async function permissionChecks(session: CloudSession, region: string, attempts: readonly TokenAttempt[], add: (c: Check) => void): Promise<void> {
  const api = session.api(region);
  let listed: string | undefined;
  await probe('ListInstance', add, async () => {
    const page = await api.listInstance({ pageNo: 1, pageSize: 1 });
    listed = page.instances[0]?.instanceId;
    return `allowed (${region}, as ${session.identity})`;
  });

  const known = attempts.find((a) => a.instanceId !== undefined);
  if (known?.instanceId !== undefined) {
    const id = known.instanceId;
    await probe('ListInstanceEndpoint', add, async () => {
      await known.session.api(known.region).listInstanceEndpoint({ instanceId: id, moduleName: 'Registry' });
      return `allowed for ${id} (${known.region}, as ${known.session.identity})`;
    });
  } else {
    const id = listed ?? MADE_UP_INSTANCE_ID;
    await probe('ListInstanceEndpoint', add, async () => {
      await api.listInstanceEndpoint({ instanceId: id, moduleName: 'Registry' });
      return `allowed for ${id} (${region}, as ${session.identity})`;
    }, id === MADE_UP_INSTANCE_ID);
  }

  if (attempts.length > 0) {
    add(fromTokenAttempts(attempts));
    return;
  }
  // No token call was made (no Enterprise Edition registry to check): a made-up id. A real one
  // would mint a token nobody uses.
  await probe('GetAuthorizationToken', add, async () => {
    await api.getAuthorizationToken({ instanceId: MADE_UP_INSTANCE_ID });
    return `allowed (${region}, as ${session.identity})`;
  }, true);
}

/** The token calls the registry checks made: allowed or denied, per instance. */
function fromTokenAttempts(attempts: readonly TokenAttempt[]): Check {
  const id = 'permission.cr:GetAuthorizationToken';
  const what = (a: TokenAttempt) => `${a.instanceId ?? 'Personal Edition'} (${a.region}, as ${a.session.identity})`;
  const denied = attempts.filter((a) => a.outcome === 'denied');
  const allowed = attempts.filter((a) => a.outcome === 'allowed');
  const parts = [...allowed.map((a) => `allowed for ${what(a)}`), ...denied.map((a) => `denied for ${what(a)}: grant cr:GetAuthorizationToken on it in a RAM policy`)];
  if (denied.length > 0) return { id, status: 'fail', message: parts.join('; ') };
  if (allowed.length > 0) return { id, status: 'pass', message: parts.join('; ') };
  return { id, status: 'warn', message: `could not be checked: the token calls failed for other reasons (see the token checks)` };
}

async function probe(action: string, add: (c: Check) => void, call: () => Promise<string>, madeUpId = false): Promise<void> {
  const id = `permission.cr:${action}`;
  try {
    add({ id, status: 'pass', message: await call() });
  } catch (error) {
    if (isProviderError(error) && error.errorClass === 'not-found') {
      add({ id, status: 'pass', message: `allowed (checked with a made-up instance id, which was not found, as expected)` });
    } else if (isProviderError(error) && error.errorClass === 'permission') {
      add(
        madeUpId
          ? { id, status: 'warn', message: `denied for a made-up instance id (${MADE_UP_INSTANCE_ID}): expected if the RAM policy names specific instances; pass --image with an image of one of them to check it (${describeError(error)})` }
          : { id, status: 'fail', message: describeError(error) },
      );
    } else {
      add({ id, status: 'warn', message: `could not be checked: ${describeError(error)}` });
    }
  }
}
