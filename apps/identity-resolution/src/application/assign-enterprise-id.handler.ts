import { EventContext, InboundEvent, deriveEventId } from '@clinmesh/event-runtime';
import { sourcePatientKey } from '@clinmesh/security';
import { stageTopic } from '@clinmesh/topology';
import type { IdentifiedEvent, IngestedEvent } from '@clinmesh/schemas';
import type { PersonRecord } from '@clinmesh/empi';
import { extractMessageDemographics } from '../domain/message-demographics.extractor';
import type { MergeDirective, PatientDemographics } from '../domain/patient-demographics.model';
import type { PersonIndexPort } from '../domain/person-index.port';
import { IdentityChangeLog } from './identity-change.log';
import { MasterPatientIndex, RecordAssignment } from './master-patient-index';

/**
 * Ties an ingested message to an enterprise patient inside the event's
 * transaction: demographics from the original bytes, matched online against
 * the index (record already known → its person; else deterministic rules,
 * then Fellegi–Sunter with link / review / new thresholds), merges carried
 * by ADT^A40/A47 applied, then the message published on
 * clinical.identified.<tier> keyed by EPID with method and score, and every
 * index change on clinical.identity.events keyed by EPID.
 */
export class AssignEnterpriseIdHandler {
  constructor(
    private readonly index: MasterPatientIndex,
    private readonly personIndex: (ctx: EventContext) => PersonIndexPort,
    private readonly patientKeySecret: string,
  ) {}

  /**
   * Assignments decided for a chunk in `lockChunk`, by event id, taken (and dropped) by `handle` in
   * the same transaction. A chunk that fails is retried record by record, and each retry prepares
   * again, so an entry never outlives the transaction that made it in a way that matters.
   */
  private readonly prepared = new Map<string, { assignment: RecordAssignment; changes: IdentityChangeLog }>();

  /**
   * Before a chunk of events is handled in one transaction: lock the blocking keys of all of them at
   * once, in one sorted order (per-record locking let two chunks deadlock), then assign every
   * message that carries no merge set-based (`MasterPatientIndex.assignChunk`: one candidate
   * query, one person query and multi-row writes for the whole chunk). Messages with A40/A47
   * merge directives take the record-by-record path in `handle`.
   */
  async lockChunk(events: Array<InboundEvent<IngestedEvent>>, repo: PersonIndexPort): Promise<void> {
    const keys = new Set<string>();
    let readsLater = false;
    const plain: Array<{ event: InboundEvent<IngestedEvent>; record: PersonRecord }> = [];
    for (const event of events) {
      const ingested = event.value;
      if (!ingested.sourcePatientKey) continue;
      const demographics = extractMessageDemographics(ingested.format, ingested.raw);
      const record = toRecord(ingested, demographics.patient);
      for (const key of this.index.blockingKeysOf(record)) keys.add(key);
      if (demographics.merges.length === 0) plain.push({ event, record });
      // A message with merge directives reads the index again later in this transaction (`handle`).
      else readsLater = true;
    }
    await repo.candidates.lockKeys([...keys]);
    // Without such a message, the chunk's writes ride on the closing statement.
    const assigned = await this.index.assignChunk(
      repo, plain.map(({ event, record }) => ({ record, reviewItemId: deriveEventId(event.eventId, 'review-item') })), { deferWrites: !readsLater },
    );
    plain.forEach(({ event }, i) => this.prepared.set(event.eventId, assigned[i]));
  }

  async handle(event: InboundEvent<IngestedEvent>, ctx: EventContext): Promise<void> {
    const ingested = event.value;
    const changes = new IdentityChangeLog();
    let assignment: RecordAssignment | undefined;
    const prepared = this.prepared.get(event.eventId);
    this.prepared.delete(event.eventId);
    if (ingested.sourcePatientKey && prepared) {
      assignment = prepared.assignment;
      changes.changes.push(...prepared.changes.changes);
    } else if (ingested.sourcePatientKey) {
      const repo = this.personIndex(ctx);
      const demographics = extractMessageDemographics(ingested.format, ingested.raw);
      const record = toRecord(ingested, demographics.patient);
      const primaryMerge = demographics.merges.find((m) => this.recordKeyOf(m.survivor) === record.recordId) ?? demographics.merges[0];
      let directedEpid: { epid: string; method: string } | undefined;
      if (primaryMerge?.kind === 'identifier-change') {
        // A47: the patient's identifier changed. An identifier we have never seen joins the prior identifier's person instead of opening a new one.
        const prior = await this.priorPerson(repo, primaryMerge);
        if (prior) directedEpid = { epid: prior, method: 'identifier-change' };
      }
      assignment = await this.index.assign(repo, record, changes, { reviewItemId: ctx.deriveEventId('review-item'), directedEpid });
      for (const [i, directive] of demographics.merges.entries()) {
        const survivorKey = directive === primaryMerge ? record.recordId : this.recordKeyOf(directive.survivor);
        const survivorLink = survivorKey ? await repo.link(survivorKey) : undefined;
        const prior = await this.priorPerson(repo, directive);
        if (!survivorLink || !prior) continue; // nothing known about one side: nothing to merge
        await this.index.merge(repo, survivorLink.epid, prior, `ADT^${directive.trigger}`, ctx.deriveEventId(`merge:${i}`), changes, `persons-merged:${i}`);
      }
      // A merge in this message may have folded the patient's own person away (both sides were the same person under two EPIDs).
      assignment = { ...assignment, epid: await this.index.current(repo, assignment.epid) };
    }
    const epid = assignment?.epid ?? '';
    const identified: IdentifiedEvent = {
      eventId: ctx.deriveEventId('identified'),
      correlationId: event.correlationId,
      causationId: event.eventId,
      epid,
      tier: ingested.tier,
      identity: assignment
        ? { method: assignment.method, score: assignment.score, personCreated: assignment.personCreated }
        : { method: 'none', score: null, personCreated: false },
      ingested,
    };
    ctx.emit({ topic: stageTopic('identified', ingested.tier), key: epid || ingested.correlationId, value: identified, tier: ingested.tier });
    changes.publish(ctx);
  }

  /** The person holding MRG-1's record: by the record key ingest would give it, else by the identifier among stored records. */
  private async priorPerson(repo: PersonIndexPort, directive: MergeDirective): Promise<string | undefined> {
    const key = sourcePatientKey(this.patientKeySecret, directive.prior.system, directive.prior.value);
    const link = await repo.link(key);
    if (link) return this.index.current(repo, link.epid);
    const holders = await repo.recordsWithIdentifier(directive.prior.system, directive.prior.value);
    return holders[0] ? this.index.current(repo, holders[0].epid) : undefined;
  }

  private recordKeyOf(p: PatientDemographics): string | undefined {
    const primary = p.identifiers.find((i) => i.type === 'MR') ?? p.identifiers[0];
    return primary ? sourcePatientKey(this.patientKeySecret, primary.system, primary.value) : undefined;
  }
}

function toRecord(ingested: IngestedEvent, patient: PatientDemographics | undefined): PersonRecord {
  // Ingest's identifiers are the fallback when the payload could not be re-read.
  const identifiers = patient?.identifiers ?? ingested.patientIdentifiers.map((i) => ({ system: i.system, value: i.value, ...(i.type ? { type: i.type } : {}) }));
  // Object.assign, not `{ ...patient, ... }`: keys added after a leading spread are slow in V8 (~2 µs each), per record.
  return Object.assign({}, patient, { identifiers, recordId: ingested.sourcePatientKey, sourceSystem: ingested.source.system });
}
