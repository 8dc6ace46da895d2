import type { EventContext, InboundEvent, UnitOfWork } from '@clinmesh/event-runtime';
import { EVENT_TOPICS, deidentifiedTopic, stageTopic } from '@clinmesh/topology';
import type { CanonicalEvent, PolicyDecisionEvent, RoutedEvent } from '@clinmesh/schemas';
import { AudienceDecision, DecisionEvent, EventDecision, decide } from '../domain/decide';
import type { ConsentDirective } from '../domain/consent';
import type { ActiveGrant } from '../domain/decide';
import type { CompiledPolicy } from '../domain/policy-set';
import { projectView, pseudonym } from '../domain/views';
import type { PolicyStore } from './policy-store';
import type { DecisionObserver, DecisionRecord, HeldView, PatientState, ShadowDiff, StoresFactory } from './ports';

/** What the decision needs from one canonical event. */
export function decisionInput(c: CanonicalEvent): DecisionEvent {
  let doc: Record<string, unknown> = {};
  try { doc = JSON.parse(c.document) as Record<string, unknown>; } catch { /* a non-JSON document carries no labels or score */ }
  const security = Array.isArray(doc.security) ? doc.security.map(String) : [];
  const score = typeof doc.score === 'number' ? doc.score : null;
  return {
    messageType: c.provenance.sourceMessageType, resourceType: c.resourceType, tier: c.tier, records: c.records,
    sourceLabels: security, score, dataTime: c.occurredAt ?? null,
  };
}

/**
 * clinical.canonical.* → one explained decision per audience, one routed view
 * per permitted audience (clinical.routed.<tier>, or clinical.deidentified.<tier>
 * for de-identified audiences), every decision on clinical.policy.decisions —
 * and, with a candidate version loaded, the candidate's differing decisions as
 * shadow records (no effect on routing).
 */
export class RouteCanonicalEventHandler {
  constructor(
    private readonly store: PolicyStore,
    private readonly stores: StoresFactory,
    private readonly pseudonymSecret: string,
    private readonly observer?: DecisionObserver,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The consumer's prepare step, once per transaction before the handlers: the consents and grants
   * of every patient in the chunk, one read per table, into the transaction's chunk store.
   */
  async prepare(events: Array<InboundEvent<CanonicalEvent>>, uow: UnitOfWork): Promise<void> {
    await this.stores(uow).chunk.preload(events.map((e) => e.value.epid), new Date(this.clock()));
  }

  /**
   * Decides one event from the transaction's chunk store and buffers what it decided there; the
   * routed views and decision events go out through the context as before (the outbox is the
   * runtime's, one write per transaction).
   */
  async handle(event: InboundEvent<CanonicalEvent>, ctx: EventContext): Promise<void> {
    const canonical = event.value;
    const chunk = this.stores(ctx.uow).chunk;
    const now = this.clock();
    const { consents, grants }: PatientState = canonical.epid ? await chunk.patientState(canonical.epid, new Date(now)) : { consents: [], grants: [] };
    const input = decisionInput(canonical);
    const policy = this.store.active;
    const decision = decide(policy, input, consents, grants, now);
    const records: DecisionRecord[] = [];
    const held: HeldView[] = [];
    for (const a of decision.perAudience) {
      const decisionId = ctx.deriveEventId(`decision:${a.audience}`);
      let routedEventId: string | null = null;
      if (a.effect !== 'DENY') {
        routedEventId = ctx.deriveEventId(`routed:${a.audience}`);
        const routed = this.routedView(policy, canonical, decision, a, decisionId, routedEventId, event.correlationId, event.eventId);
        const view = { topic: a.deidentified ? deidentifiedTopic(decision.tier) : stageTopic('routed', decision.tier), key: routed.epid || null, value: routed, eventId: routedEventId, tier: decision.tier };
        // A delay rule holds the view in this transaction; the release timer publishes it, unchanged, at its time.
        if (a.releaseAt !== null && a.releaseAt > now) held.push({ ...view, routedEventId, decisionId, audience: a.audience, releaseAt: new Date(a.releaseAt) });
        else ctx.emit(view);
      }
      const record = this.record(decision, a, decisionId, routedEventId, canonical, event);
      records.push(record);
      ctx.emit({ topic: EVENT_TOPICS.decisions, key: canonical.epid || null, value: decisionEvent(record, ctx.deriveEventId(`decision-event:${a.audience}`), now), eventId: ctx.deriveEventId(`decision-event:${a.audience}`) });
    }
    const candidate = this.store.candidate;
    const diffs = candidate ? this.shadow(candidate, decision, input, consents, grants, now, canonical, event, ctx) : [];
    chunk.record(records, held, diffs);
    for (const r of records) this.observer?.decided(r.audience, r.effect, r.purpose);
    for (const h of held) this.observer?.held(h.audience);
  }

  /** The consumer's complete step, once per transaction after the handlers: the chunk's decisions, held views and shadow diffs, one statement per table, with the closing statement. */
  async complete(uow: UnitOfWork): Promise<void> {
    await this.stores(uow).chunk.flush({ atEnd: true });
  }

  private routedView(policy: CompiledPolicy, canonical: CanonicalEvent, d: EventDecision, a: AudienceDecision, decisionId: string, eventId: string, correlationId: string, causationId: string): RoutedEvent {
    const view = projectView(canonical, policy.set.projections[a.projection], {
      withheld: a.withheldLabels, recordLabels: d.recordLabels, pseudonymSecret: this.pseudonymSecret, audience: a.audience,
    });
    return {
      eventId, correlationId, causationId,
      epid: a.deidentified ? pseudonym(this.pseudonymSecret, a.audience, canonical.epid) : canonical.epid,
      tier: d.tier,
      decision: {
        policyVersion: d.policyVersion, ruleIds: [...d.routingRuleIds, ...a.ruleIds], workflows: d.workflows, audiences: d.permittedAudiences,
        originalTier: d.originalTier, explanation: `${d.explanation}. ${a.audience}: ${a.reason}`,
      },
      audience: a.audience, purposeOfUse: a.purposeOfUse, decisionId, effect: a.effect === 'REDACT' ? 'REDACT' : 'PERMIT', projection: a.projection,
      labels: a.deidentified ? [] : d.labels, critical: d.critical, deidentified: a.deidentified, canonical: view,
    };
  }

  private record(d: EventDecision, a: AudienceDecision, decisionId: string, routedEventId: string | null, c: CanonicalEvent, event: InboundEvent<CanonicalEvent>): DecisionRecord {
    return {
      decisionId, canonicalEventId: event.eventId, correlationId: event.correlationId, epid: c.epid, audience: a.audience, effect: a.effect, obligations: a.obligations,
      policyVersion: d.policyVersion, ruleIds: a.ruleIds, routingRuleIds: d.routingRuleIds, consentId: a.consent.consentId, consentProvision: a.consent.provision,
      consentDecision: a.consent.decision, labels: d.labels, withheldLabels: a.withheldLabels, purpose: a.purposeOfUse, grantId: a.breakGlassGrantId,
      projection: a.projection, deidentified: a.deidentified, tier: d.tier, originalTier: d.originalTier, critical: d.critical, workflows: d.workflows,
      routedEventId, resourceType: c.resourceType, reason: a.reason, explanation: d.explanation,
    };
  }

  /** Shadow mode: the candidate decides the same event; only its differences are kept (returned) and published (shadow = true). */
  private shadow(candidate: CompiledPolicy, active: EventDecision, input: DecisionEvent, consents: ConsentDirective[], grants: ActiveGrant[], now: number,
    c: CanonicalEvent, event: InboundEvent<CanonicalEvent>, ctx: EventContext): ShadowDiff[] {
    const shadow = decide(candidate, input, consents, grants, now);
    const audiences = [...new Set([...active.perAudience.map((a) => a.audience), ...shadow.perAudience.map((a) => a.audience)])];
    const summary = (d: EventDecision, a: AudienceDecision | undefined) => ({
      version: d.policyVersion, effect: a?.effect ?? 'NOT_ROUTED', obligations: a ? [...a.obligations].sort() : [], ruleIds: a?.ruleIds ?? [],
      tier: d.tier, workflows: [...d.workflows].sort(), reason: a?.reason ?? 'not a candidate audience of this version',
    });
    const diffs: ShadowDiff[] = [];
    for (const audience of audiences) {
      const before = summary(active, active.perAudience.find((a) => a.audience === audience));
      const after = summary(shadow, shadow.perAudience.find((a) => a.audience === audience));
      const same = before.effect === after.effect && before.tier === after.tier && JSON.stringify(before.obligations) === JSON.stringify(after.obligations)
        && JSON.stringify(before.workflows) === JSON.stringify(after.workflows);
      if (same) continue;
      this.observer?.shadowDiffered(audience);
      diffs.push({ candidateVersion: shadow.policyVersion, activeVersion: active.policyVersion, canonicalEventId: event.eventId, correlationId: event.correlationId, audience, active: before, candidate: after });
      const id = ctx.deriveEventId(`shadow:${shadow.policyVersion}:${audience}`);
      const value: PolicyDecisionEvent = {
        eventId: id, correlationId: event.correlationId, decisionId: id, canonicalEventId: event.eventId, epid: c.epid, audience, effect: after.effect,
        obligations: after.obligations, policyVersion: shadow.policyVersion, ruleIds: after.ruleIds, routingRuleIds: shadow.routingRuleIds, consentId: null,
        consentProvision: null, consentDecision: 'NO_CONSENT', labels: shadow.labels, withheldLabels: [], purposeOfUse: 'TREAT', breakGlassGrantId: null,
        projection: '', tier: shadow.tier, routedEventId: null, reason: `shadow ${shadow.policyVersion} vs active ${active.policyVersion}: ${after.reason}`,
        shadow: true, activeEffect: before.effect, at: now,
      };
      ctx.emit({ topic: EVENT_TOPICS.decisions, key: c.epid || null, value, eventId: id });
    }
    return diffs;
  }
}

export function decisionEvent(r: DecisionRecord, eventId: string, at: number): PolicyDecisionEvent {
  return {
    eventId, correlationId: r.correlationId, decisionId: r.decisionId, canonicalEventId: r.canonicalEventId, epid: r.epid, audience: r.audience, effect: r.effect,
    obligations: r.obligations, policyVersion: r.policyVersion, ruleIds: r.ruleIds, routingRuleIds: r.routingRuleIds, consentId: r.consentId,
    consentProvision: r.consentProvision, consentDecision: r.consentDecision, labels: r.labels, withheldLabels: r.withheldLabels, purposeOfUse: r.purpose,
    breakGlassGrantId: r.grantId, projection: r.projection, tier: r.tier, routedEventId: r.routedEventId, reason: r.reason, shadow: false, activeEffect: null, at,
  };
}
