import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import type { CanonicalEvent, RoutedEvent } from '@clinmesh/schemas';
import { taskTitle } from '../domain/task';
import { RoutedChunkNeeds, TaskStore } from '../domain/task.ports';
import { WorkflowDefinition } from '../domain/workflow/workflow.model';
import { findingOf, isCorrection, routedTriggerKey } from '../domain/routed-trigger';
import { TaskLifecycle } from './task-lifecycle';

/**
 * clinical.routed.* → one task per workflow the decision names and canonical
 * record. Policy sends one routed copy per permitted audience (same
 * decision.workflows, same canonical id and correlation): the trigger key
 * makes them one task. A corrected record updates the task still open for
 * its canonical id (and records the change); when that task is already
 * closed, the correction opens a new task that names the closed one (the
 * loop must be closed again on the corrected value). A replay or a
 * terminology re-emission finds the task by its key and creates nothing.
 */
export class OpenRoutedTasksHandler {
  /** Whether a canonical event is a correction, asked by `needs` and again by `handle` (it may parse the whole document). */
  private readonly corrections = new WeakMap<CanonicalEvent, boolean>();

  constructor(private readonly lifecycle: TaskLifecycle, private readonly stores: (ctx: EventContext) => TaskStore) {}

  /**
   * What `handle` will read for these events (a chunk, before its handlers run): the trigger key of
   * every (workflow, event) pair, and for corrections the (workflow, canonical record, patient)
   * whose newest task they may amend. The consumer's prepare step reads all of it in one statement.
   */
  needs(events: Array<InboundEvent<RoutedEvent>>): RoutedChunkNeeds {
    const triggerKeys = new Set<string>();
    const canonicals = new Map<string, RoutedChunkNeeds['canonicals'][number]>();
    for (const { value: routed } of events) {
      if (routed.deidentified) continue;
      const correction = this.isCorrection(routed.canonical);
      for (const { def } of this.workflowsOf(routed)) {
        triggerKeys.add(routedTriggerKey(def.id, routed));
        if (correction) {
          const ref = { workflow: def.id, canonicalId: routed.canonical.canonicalId, epid: routed.epid };
          canonicals.set(`${ref.workflow}\u0000${ref.canonicalId}\u0000${ref.epid}`, ref);
        }
      }
    }
    return { triggerKeys: [...triggerKeys], canonicals: [...canonicals.values()] };
  }

  private isCorrection(canonical: CanonicalEvent): boolean {
    let known = this.corrections.get(canonical);
    if (known === undefined) this.corrections.set(canonical, (known = isCorrection(canonical)));
    return known;
  }

  /** The decision's workflows that are loaded, each once (several policy names may map to one workflow). */
  private workflowsOf(routed: RoutedEvent): Array<{ name: string; def: WorkflowDefinition }> {
    const seen = new Set<string>();
    const out: Array<{ name: string; def: WorkflowDefinition }> = [];
    for (const name of routed.decision.workflows) {
      const def = this.lifecycle.catalog.forRouted(name);
      if (!def || seen.has(def.id)) continue;
      seen.add(def.id);
      out.push({ name, def });
    }
    return out;
  }

  async handle(event: InboundEvent<RoutedEvent>, ctx: EventContext): Promise<void> {
    const routed = event.value;
    if (routed.deidentified) return;
    const store = this.stores(ctx);
    const canonical = routed.canonical;
    for (const { name, def } of this.workflowsOf(routed)) {
      const triggerKey = routedTriggerKey(def.id, routed);
      const existing = await store.byTriggerKey(triggerKey);
      if (existing) {
        await store.linkEvent(routed.eventId, existing.taskId);
        continue;
      }
      const { finding, identifiedAt } = findingOf(canonical);
      let correctionOf: { taskId: string; finding: string | null } | null = null;
      if (this.isCorrection(canonical)) {
        const prior = await store.latestForCanonical(def.id, canonical.canonicalId, routed.epid);
        if (prior && this.lifecycle.isClosed(prior)) {
          // The clinician already closed the loop on the original value: amending a closed task would change
          // the record behind their back and notify no one. The corrected value is new work, linked to the old task.
          correctionOf = { taskId: prior.taskId, finding: prior.finding };
        } else if (prior) {
          await store.linkEvent(routed.eventId, prior.taskId);
          await this.lifecycle.amend(ctx, store, prior, { finding: finding ?? prior.finding, identifiedAt, details: { ...prior.details, correctedBy: routed.correlationId } }, {
            actor: 'task', reason: `corrected ${canonical.resourceType} (${canonical.provenance.sourceMessageType})`, correction: true, change: 'UPDATED', action: 'correct',
            details: { correlationId: routed.correlationId, previousFinding: prior.finding, finding },
          });
          continue;
        }
      }
      const task = this.lifecycle.newTask(def, {
        taskId: ctx.deriveEventId(`task:${def.id}`),
        tier: routed.tier,
        epid: routed.epid,
        correlationId: routed.correlationId,
        sourceEventId: routed.eventId,
        triggerKey,
        title: taskTitle(def.title, canonical.provenance.sourceMessageType),
        messageType: canonical.provenance.sourceMessageType,
        resourceType: canonical.resourceType,
        canonicalId: canonical.canonicalId,
        audiences: routed.decision.audiences,
        finding: def.acknowledgement ? finding : null,
        identifiedAt: def.acknowledgement ? identifiedAt : null,
        communicatedBy: def.acknowledgement ? `clinmesh for ${canonical.source.system}` : null,
        details: {
          policyWorkflow: name, decisionId: routed.decisionId ?? null, critical: routed.critical ?? false, sourceSystem: canonical.source.system,
          ...(correctionOf ? { correctionOf: correctionOf.taskId, previousFinding: correctionOf.finding, correctedBy: routed.correlationId } : {}),
        },
      }, canonical.receivedAt);
      await store.linkEvent(routed.eventId, task.taskId);
      const reason = correctionOf
        ? `corrected ${canonical.resourceType} after task ${correctionOf.taskId} was closed`
        : routed.decision.explanation.slice(0, 200) || null;
      await this.lifecycle.open(ctx, store, task, 'policy', reason);
    }
  }
}
