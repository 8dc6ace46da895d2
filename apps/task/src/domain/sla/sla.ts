import { Tier } from '@clinmesh/topology';
import { WorkflowDefinition } from '../workflow/workflow.model';
import { parseDuration } from './duration';
import { FacilityCalendar, endOfDay, endOfShift } from './facility-calendar';

/** Per-deployment overrides (tests use short SLAs): workflow → tier → ISO duration, workflow → rung offsets. */
export interface SlaOverrides {
  sla?: Record<string, Partial<Record<Tier, string>>>;
  escalation?: Record<string, string[]>;
}

/**
 * SLAs and escalation ladders as data: the due time of a task from its
 * workflow's SLA for the tier (a duration, end of the shift or end of the
 * day on the facility calendar), and when each ladder rung fires.
 */
export class SlaPolicy {
  constructor(private readonly calendar: FacilityCalendar, private readonly overrides: SlaOverrides = {}) {}

  dueAt(workflow: WorkflowDefinition, tier: Tier, from: number): number {
    const spec = this.overrides.sla?.[workflow.id]?.[tier] ?? workflow.sla[tier];
    if (spec === 'end-of-shift') return endOfShift(this.calendar, from);
    if (spec === 'end-of-day') return endOfDay(this.calendar, from);
    return from + (parseDuration(spec) ?? 0);
  }

  /** When rung `rung` fires for a task due at `dueAt` (null: the ladder is exhausted). */
  rungAt(workflow: WorkflowDefinition, dueAt: number, rung: number): number | null {
    const offsets = this.overrides.escalation?.[workflow.id] ?? workflow.escalation.map((r) => r.after);
    if (rung >= workflow.escalation.length) return null;
    return dueAt + (parseDuration(offsets[Math.min(rung, offsets.length - 1)]) ?? 0);
  }
}
