// SPDX-License-Identifier: Apache-2.0
// Which API group holds Calico's resources: crd.projectcalico.org/v1 (every install up to v3.31
// and the default manifests after) or the native projectcalico.org/v3 CRDs (v3.32+). Decided as
// libcalico-go/lib/backend/k8s/discovery.go UsingV3CRDs does: CALICO_API_GROUP wins when set;
// otherwise server-group discovery (GET /apis) picks v3 only if projectcalico.org is served and
// crd.projectcalico.org is not (both served = the aggregated calico-apiserver on top of the v1
// CRDs, so read v1 directly). If discovery fails, Calico falls back to v1, and so do we.
import type { Logger } from '../../observability/log.ts';
import { errorStatus, type KubeTransport } from './transport.ts';

export interface CalicoApiGroup {
  group: 'crd.projectcalico.org' | 'projectcalico.org';
  version: 'v1' | 'v3';
  /** How it was decided, for logs and status. */
  decidedBy: 'env' | 'discovery' | 'fallback';
}

export const CALICO_V1: Omit<CalicoApiGroup, 'decidedBy'> = { group: 'crd.projectcalico.org', version: 'v1' };
export const CALICO_V3: Omit<CalicoApiGroup, 'decidedBy'> = { group: 'projectcalico.org', version: 'v3' };

/** CALICO_API_GROUP as Calico reads it: "projectcalico.org/v3" selects v3, any other value v1. */
export function apiGroupFromEnv(value: string | undefined): CalicoApiGroup | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.trim();
  // Calico compares with apiv3.GroupVersionCurrent ("projectcalico.org/v3"); accept the bare group too.
  return v === 'projectcalico.org/v3' || v === 'projectcalico.org' ? { ...CALICO_V3, decidedBy: 'env' } : { ...CALICO_V1, decidedBy: 'env' };
}

/**
 * A transport failure (no HTTP answer) is retried `attempts` times before falling back, since a
 * wrong guess would only be corrected by a restart; an HTTP error answer falls back at once.
 */
export async function detectCalicoApiGroup(transport: KubeTransport, env: NodeJS.ProcessEnv, log: Logger, attempts = 5, retryMs = 1000): Promise<CalicoApiGroup> {
  const fromEnv = apiGroupFromEnv(env.CALICO_API_GROUP);
  if (fromEnv) {
    log.info({ apiGroup: `${fromEnv.group}/${fromEnv.version}` }, 'using the Calico API group set by CALICO_API_GROUP');
    return fromEnv;
  }
  let groups: string[] | undefined;
  for (let attempt = 1; !groups; attempt++) {
    try {
      const list = (await transport.get('/apis')) as { groups?: { name?: string }[] };
      groups = (list.groups ?? []).map((g) => g.name ?? '');
    } catch (err) {
      if (errorStatus(err) !== undefined || attempt >= attempts) {
        log.warn({ error: (err as Error).message }, 'API group discovery failed; defaulting to crd.projectcalico.org/v1');
        return { ...CALICO_V1, decidedBy: 'fallback' };
      }
      await new Promise((r) => setTimeout(r, retryMs * attempt));
    }
  }
  const v3present = groups.includes(CALICO_V3.group);
  const v1present = groups.includes(CALICO_V1.group);
  const chosen = v3present && !v1present ? CALICO_V3 : CALICO_V1;
  log.info({ v3present, v1present, apiGroup: `${chosen.group}/${chosen.version}` }, 'auto-discovered the Calico API group');
  return { ...chosen, decidedBy: 'discovery' };
}
