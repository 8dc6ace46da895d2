import { ClinmeshError } from '@clinmesh/errors';
import type { RejectionLog } from '../../application/ports';
import type { PolicyMetrics } from '../metrics/policy.metrics';

/** Bad input is refused with a specific error, kept with its reason (pl_rejection) and counted (clinmesh_policy_rejections_total). */
export class RejectionRecorder {
  constructor(private readonly log: RejectionLog, private readonly metrics: PolicyMetrics) {}

  async guard<T>(kind: string, actor: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (e instanceof ClinmeshError && e.status >= 400 && e.status < 500) {
        this.metrics.rejections.inc({ kind, code: e.code });
        const issues = (e.details?.issues ?? e.details?.errors ?? []) as unknown[];
        await this.log.record({ kind, code: e.code, detail: e.message, issues, actor }).catch(() => undefined);
      }
      throw e;
    }
  }
}
