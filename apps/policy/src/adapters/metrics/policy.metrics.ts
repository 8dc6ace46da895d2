import { Counter } from 'prom-client';
import type { RuntimeMetrics } from '@clinmesh/observability';
import type { DecisionObserver } from '../../application/ports';

/** Policy's own metrics, on the service's registry (/metrics). */
export class PolicyMetrics implements DecisionObserver {
  readonly decisions: Counter<'audience' | 'effect' | 'purpose'>;
  readonly rejections: Counter<'kind' | 'code'>;
  readonly shadowDifferences: Counter<'audience'>;
  readonly heldViews: Counter<'audience'>;
  readonly releasedViews: Counter<'audience'>;

  constructor(metrics: RuntimeMetrics) {
    const registers = [metrics.registry];
    this.decisions = new Counter({ name: 'clinmesh_policy_decisions_total', help: 'Explained decisions, by audience, effect (PERMIT, REDACT, DENY) and purpose of use (BTG under break-glass)', labelNames: ['audience', 'effect', 'purpose'], registers });
    this.rejections = new Counter({ name: 'clinmesh_policy_rejections_total', help: 'Requests refused (invalid Consent, unknown audience, bad break-glass, invalid policy document), by kind and error code', labelNames: ['kind', 'code'], registers });
    this.heldViews = new Counter({ name: 'clinmesh_policy_views_held_total', help: 'Routed views held by a delay rule, by audience', labelNames: ['audience'], registers });
    this.releasedViews = new Counter({ name: 'clinmesh_policy_views_released_total', help: 'Held routed views released by the timer at their release time, by audience', labelNames: ['audience'], registers });
    this.shadowDifferences = new Counter({ name: 'clinmesh_policy_shadow_differences_total', help: 'Decisions a shadow candidate version would take differently, by audience', labelNames: ['audience'], registers });
  }

  decided(audience: string, effect: string, purpose: string): void {
    this.decisions.inc({ audience, effect, purpose });
  }

  shadowDiffered(audience: string): void {
    this.shadowDifferences.inc({ audience });
  }

  held(audience: string): void {
    this.heldViews.inc({ audience });
  }

  released(audience: string): void {
    this.releasedViews.inc({ audience });
  }
}
