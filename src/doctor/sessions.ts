// The doctor's cloud sessions: the provider's own CloudSession, one per identity plan, without a
// cache (the doctor observes, it never writes the node's cache) and with a silent logger (what
// the provider would warn about is reported as a check instead).
import type { ProviderConfig } from '../config/resolve.ts';
import { planIdentity, type IdentityPlan } from '../identity/request-identity.ts';
import { createLogger } from '../log/logger.ts';
import { CloudSession, type CloudPlan } from '../provider/cloud-session.ts';
import { newSummary } from '../provider/summary.ts';
import { Deadline } from '../resilience/deadline.ts';
import type { RegistryEntry } from '../config/schema.ts';

export class DoctorSessions {
  private readonly config: ProviderConfig;
  private readonly env: NodeJS.ProcessEnv;
  private readonly sessions = new Map<string, CloudSession>();

  constructor(config: ProviderConfig, env: NodeJS.ProcessEnv) {
    this.config = config;
    this.env = env;
  }

  /**
   * Whose credentials would serve this registry, decided as in kubelet mode for a request that
   * carries no ServiceAccount token (the doctor has none).
   */
  plan(host: string, entry: RegistryEntry | undefined): IdentityPlan {
    return planIdentity({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1', image: host }, entry, this.config, this.env);
  }

  session(plan: CloudPlan): CloudSession {
    let session = this.sessions.get(plan.id);
    if (!session) {
      session = new CloudSession({ config: this.config, plan, deadline: new Deadline(this.config.timeoutMs), logger: createLogger('error', () => undefined), summary: newSummary(), cache: undefined });
      this.sessions.set(plan.id, session);
    }
    return session;
  }
}
