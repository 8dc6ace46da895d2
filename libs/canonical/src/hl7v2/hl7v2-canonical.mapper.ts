import { Hl7Message, Hl7Segment, parseHl7Message } from '@clinmesh/hl7v2';
import type {
  AllergyIntolerance, Appointment, ChangeType, ClinicalTime, CodeableConcept, Coding, Condition, Coverage, DiagnosticReport, DocumentReference, Encounter,
  Identifier, Immunization, MedicationAdministration, MedicationRequest, Observation, Patient, Procedure, Quantity, ReferenceRange, ServiceRequest,
} from '@clinmesh/schemas';
import { CanonicalMapping, CanonicalRecordType, canonicalId, emptyRecords } from '../model/canonical-records';
import { MappingSession } from '../model/mapping-session';
import { LOINC } from '../terminology/terminology-map';
import { alternateQuantities, quantity } from '../units/ucum-units';
import {
  addresses, codings, codingsAt, cweText, cxIdentifiers, eiIdentifier, names, num, person, reps, telecoms, text,
} from './hl7v2-datatypes';

/** The fields every canonical record starts with (`meta`). */
type RecordMeta = Pick<Observation, 'id' | 'changeType' | 'correction' | 'patientId' | 'provenance'>;

/**
 * A record: its meta fields, then its own, in that order. Written out, not as `{ ...m, ... }`: V8
 * (Node 20) defines every property that follows a leading spread on a slow path, about 2 µs each —
 * 40 µs for an Observation, a fifth of mapping a lab message. A trailing spread is fast.
 */
function withMeta<R extends RecordMeta>(m: RecordMeta, fields: Omit<R, keyof RecordMeta>): R {
  return { id: m.id, changeType: m.changeType, correction: m.correction, patientId: m.patientId, provenance: m.provenance, ...fields } as R;
}

const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
/** Codes this project gives to facts HL7 v2 carries in dedicated segments (ACC, PDA) rather than in OBX. */
export const CLINMESH_OBSERVATION_CODE = 'urn:clinmesh:codesystem:observation-code';
export const CLINMESH_PROCEDURE_CODE = 'urn:clinmesh:codesystem:procedure-code';
const YES_NO = 'http://terminology.hl7.org/CodeSystem/v2-0136';

/** PV1-2 patient class (table 0004) → v3 ActCode encounter class. */
const ENCOUNTER_CLASS: Record<string, { code: string; display: string }> = {
  E: { code: 'EMER', display: 'emergency' }, I: { code: 'IMP', display: 'inpatient encounter' }, O: { code: 'AMB', display: 'ambulatory' },
  P: { code: 'PRENC', display: 'pre-admission' }, R: { code: 'IMP', display: 'inpatient encounter' }, B: { code: 'IMP', display: 'inpatient encounter' },
  C: { code: 'AMB', display: 'ambulatory' }, N: { code: 'AMB', display: 'ambulatory' },
};

const GENDER: Record<string, string> = { M: 'male', F: 'female', O: 'other', A: 'other', N: 'other', U: 'unknown' };

/** OBX-11 / OBR-25 result status (table 0085/0123) → FHIR status, change type and correction flag. */
const RESULT_STATUS: Record<string, { status: string; change: ChangeType; correction: boolean }> = {
  F: { status: 'final', change: 'CREATE', correction: false }, C: { status: 'corrected', change: 'UPDATE', correction: true },
  P: { status: 'preliminary', change: 'CREATE', correction: false }, S: { status: 'preliminary', change: 'CREATE', correction: false },
  R: { status: 'registered', change: 'CREATE', correction: false }, I: { status: 'registered', change: 'CREATE', correction: false },
  O: { status: 'registered', change: 'CREATE', correction: false }, A: { status: 'preliminary', change: 'UPDATE', correction: false },
  X: { status: 'cancelled', change: 'CANCEL', correction: false }, D: { status: 'entered-in-error', change: 'CANCEL', correction: false },
  W: { status: 'entered-in-error', change: 'CANCEL', correction: true }, N: { status: 'unknown', change: 'CREATE', correction: false },
  U: { status: 'final', change: 'UPDATE', correction: false }, M: { status: 'corrected', change: 'UPDATE', correction: true },
};

const ADT_PATIENT_LEVEL = new Set(['A28', 'A29', 'A31', 'A24', 'A37', 'A40', 'A41', 'A42', 'A45', 'A47', 'A30', 'A34', 'A35', 'A36', 'A39', 'A46', 'A48', 'A49', 'A50', 'A51']);
const ADT_CREATE = new Set(['A01', 'A04', 'A05', 'A14', 'A28']);
const ADT_CANCEL = new Set(['A11', 'A12', 'A13', 'A23', 'A25', 'A26', 'A27', 'A29', 'A32', 'A33', 'A38', 'A52', 'A53', 'A55']);
const ADT_MERGE = new Set(['A18', 'A30', 'A34', 'A35', 'A36', 'A39', 'A40', 'A41', 'A42', 'A46', 'A47', 'A48', 'A49', 'A50', 'A51']);

/** ADT trigger → encounter status. */
const ADT_ENCOUNTER_STATUS: Record<string, string> = {
  A01: 'in-progress', A02: 'in-progress', A03: 'finished', A04: 'arrived', A05: 'planned', A06: 'in-progress', A07: 'in-progress', A08: 'in-progress',
  A09: 'in-progress', A10: 'in-progress', A11: 'cancelled', A12: 'in-progress', A13: 'in-progress', A14: 'planned', A15: 'in-progress',
  A16: 'in-progress', A25: 'in-progress', A26: 'in-progress', A27: 'cancelled', A38: 'cancelled',
};

const SIU_STATUS: Record<string, { status: string; change: ChangeType }> = {
  S12: { status: 'booked', change: 'CREATE' }, S13: { status: 'booked', change: 'UPDATE' }, S14: { status: 'booked', change: 'UPDATE' },
  S15: { status: 'cancelled', change: 'CANCEL' }, S16: { status: 'cancelled', change: 'CANCEL' }, S17: { status: 'entered-in-error', change: 'CANCEL' },
  S18: { status: 'booked', change: 'UPDATE' }, S19: { status: 'booked', change: 'UPDATE' }, S20: { status: 'booked', change: 'UPDATE' },
  S21: { status: 'booked', change: 'UPDATE' }, S22: { status: 'booked', change: 'UPDATE' }, S23: { status: 'booked', change: 'UPDATE' },
  S24: { status: 'booked', change: 'UPDATE' }, S26: { status: 'noshow', change: 'UPDATE' },
};

/** ORC-1 order control → status, change type. */
const ORDER_CONTROL: Record<string, { status: string; change: ChangeType }> = {
  NW: { status: 'active', change: 'CREATE' }, SN: { status: 'active', change: 'CREATE' }, CH: { status: 'active', change: 'CREATE' },
  XO: { status: 'active', change: 'UPDATE' }, XX: { status: 'active', change: 'UPDATE' }, SC: { status: 'active', change: 'UPDATE' },
  RE: { status: 'completed', change: 'UPDATE' }, OK: { status: 'active', change: 'UPDATE' }, HD: { status: 'on-hold', change: 'UPDATE' },
  RL: { status: 'active', change: 'UPDATE' }, CA: { status: 'revoked', change: 'CANCEL' }, OC: { status: 'revoked', change: 'CANCEL' },
  DC: { status: 'revoked', change: 'CANCEL' }, OD: { status: 'revoked', change: 'CANCEL' }, CR: { status: 'revoked', change: 'CANCEL' },
  PA: { status: 'active', change: 'UPDATE' }, PR: { status: 'active', change: 'UPDATE' },
};

const PRIORITY: Record<string, string> = { S: 'stat', A: 'asap', R: 'routine', P: 'routine', T: 'urgent', C: 'urgent' };

/**
 * HL7 v2 → canonical records. Reads segments in order so results attach to
 * their order group (ORC/OBR → OBX) and vaccinations to their ORC/RXA.
 * Never throws for content: unreadable parts become mapping issues.
 */
export function mapHl7v2(session: MappingSession): CanonicalMapping {
  const msg = parseHl7Message(session.input.raw);
  return new Hl7Mapper(msg, session).map();
}

/**
 * ARV-3 access restriction value (table 0717) → v3 security label, after the HL7 v2-to-FHIR
 * mapping the FHIR-Converter reference follows (DEM → DEMO, LOC → LOCIS on meta.security):
 * sensitivities keep their code, a restriction of all or of sensitive medical data is R
 * (restricted). Field-level restrictions the model cannot honour alone (DRG, ORG, PID-7…) and NO
 * (none) add nothing.
 */
const ACCESS_RESTRICTION_LABELS: Readonly<Record<string, string>> = {
  HIV: 'HIV', PSY: 'PSY', STD: 'STD', ALL: 'R', SMD: 'R', DEM: 'DEMO', LOC: 'LOCIS',
};

class Hl7Mapper {
  private readonly records = emptyRecords();
  private readonly src: string;
  private readonly type: string;
  private readonly trigger: string;
  private patientId: string | null = null;
  private encounterId: string | null = null;
  private primary: CanonicalMapping['primary'] = null;
  /** Record made from a segment that OBX segments after it describe (RXA → Immunization, RXE/RXO → MedicationRequest, PR1 → Procedure). */
  private readonly parents = new Map<Hl7Segment, { type: CanonicalRecordType; id: string }>();

  constructor(private readonly msg: Hl7Message, private readonly s: MappingSession) {
    this.src = `${s.input.sourceSystem}|${s.input.sourceFacility}`;
    this.type = msg.get('MSH-9.1') ?? '';
    this.trigger = msg.get('MSH-9.2') ?? msg.get('EVN-1') ?? '';
  }

  map(): CanonicalMapping {
    const pid = this.msg.segment('PID');
    if (pid) this.mapPatient(pid);
    const pv1 = this.msg.segment('PV1');
    const encounter = pv1 ? this.mapEncounter(pv1) : null;
    this.encounterId = encounter?.id ?? null;
    switch (this.type) {
      case 'ADT': case 'BAR': case 'DFT':
        this.setPrimary(encounter && !ADT_PATIENT_LEVEL.has(this.trigger) ? 'Encounter' : 'Patient', encounter && !ADT_PATIENT_LEVEL.has(this.trigger) ? encounter : this.records.patients[0]);
        break;
      case 'SIU': this.mapAppointments(); break;
      case 'MDM': break;
      case 'REF': case 'RRI': this.mapReferral(); break;
      case 'VXU': this.mapVaccinations(); break;
      default: break;
    }
    if (this.msg.segment('TXA')) this.mapDocument();
    if (this.type !== 'VXU' && ['RXE', 'RXO', 'RXD', 'RXA'].some((id) => this.msg.segment(id))) this.mapMedications();
    this.mapProcedures();
    // Every message type: ORC/OBR groups and every OBX, attached to the record it follows.
    this.mapOrdersAndResults();
    this.mapConditions();
    this.mapAllergies();
    this.mapCoverages();
    this.mapAccidentAndDeath();
    if (!this.primary) this.choosePrimary();
    const msh7 = this.s.hl7Time(this.msg.get('MSH-7'), 'MSH-7');
    const evn = this.s.hl7Time(this.msg.get('EVN-6') ?? this.msg.get('EVN-2'), this.msg.get('EVN-6') ? 'EVN-6' : 'EVN-2');
    return {
      records: this.records, primary: this.primary, unmappedCodes: this.s.unmappedCodes, issues: this.s.issues,
      recordedAt: msh7?.instant ?? null, occurredAt: evn?.instant ?? this.firstClinicalTime(), securityLabels: this.securityLabels(),
    };
  }

  /**
   * Confidentiality the source sent: PD1-12 protection indicator Y → R (restricted), and ARV-3
   * access restriction values (table 0717, HL7 2.6+, also sent by earlier senders) as v3 codes —
   * see ACCESS_RESTRICTION_LABELS. An ARV whose action (ARV-2) is D removes a restriction and
   * adds none.
   */
  private securityLabels(): string[] {
    const out = new Set<string>();
    if ((this.msg.get('PD1-12') ?? '').trim().toUpperCase() === 'Y') out.add('R');
    for (const arv of this.msg.segments('ARV')) {
      if ((arv.value(2) ?? '').trim().toUpperCase() === 'D') continue;
      for (const rep of reps(arv, 3)) {
        const label = ACCESS_RESTRICTION_LABELS[(rep.component(1).value ?? '').trim().toUpperCase()];
        if (label) out.add(label);
      }
    }
    return [...out].sort();
  }

  private firstClinicalTime(): number | null {
    const r = this.records;
    return r.observations[0]?.effective?.instant ?? r.diagnosticReports[0]?.effective?.instant ?? r.appointments[0]?.start?.instant
      ?? r.immunizations[0]?.occurrence?.instant ?? r.encounters[0]?.period.start?.instant ?? null;
  }

  private setPrimary(type: CanonicalRecordType, record: { id: string; changeType: ChangeType } | undefined | null): void {
    if (record && !this.primary) this.primary = { type, id: record.id, changeType: record.changeType };
  }

  private choosePrimary(): void {
    const r = this.records;
    const order: Array<[CanonicalRecordType, Array<{ id: string; changeType: ChangeType }>]> = [
      ['DiagnosticReport', r.diagnosticReports], ['Observation', r.observations], ['ServiceRequest', r.serviceRequests], ['MedicationRequest', r.medicationRequests],
      ['MedicationAdministration', r.medicationAdministrations], ['Immunization', r.immunizations], ['Appointment', r.appointments], ['DocumentReference', r.documents],
      ['Condition', r.conditions], ['AllergyIntolerance', r.allergies], ['Encounter', r.encounters], ['Patient', r.patients],
    ];
    for (const [type, list] of order) if (list.length) return this.setPrimary(type, list[0]);
  }

  private meta(type: CanonicalRecordType, key: Array<string | null | undefined>, change: ChangeType, correction: boolean, fields: string[]) {
    return { id: canonicalId(type, [this.src, ...key]), changeType: change, correction, patientId: this.patientId, provenance: this.s.provenance(fields) };
  }

  private adtChange(): ChangeType {
    if (ADT_MERGE.has(this.trigger)) return 'MERGE';
    if (ADT_CANCEL.has(this.trigger)) return 'CANCEL';
    return ADT_CREATE.has(this.trigger) ? 'CREATE' : 'UPDATE';
  }

  private mapPatient(pid: Hl7Segment): void {
    const identifiers: Identifier[] = [
      ...cxIdentifiers(pid, 2), ...cxIdentifiers(pid, 3), ...cxIdentifiers(pid, 4),
      ...(text(pid.value(19)) ? [{ value: pid.value(19)!, system: 'http://hl7.org/fhir/sid/us-ssn', type: 'SS' }] : []),
      ...cxIdentifiers(pid, 20, 'DL').map((i) => ({ ...i, system: i.system ?? text(pid.value(20, 1, 2)), type: 'DL' })),
    ];
    const epid = this.s.input.epid;
    const firstId = identifiers[0];
    const id = canonicalId('Patient', epid ? ['epid', epid] : [this.src, firstId?.system, firstId?.value]);
    this.patientId = id;
    const deathTime = this.s.hl7Time(pid.value(29), 'PID-29');
    const marital = reps(pid, 16)[0];
    const mrg = this.msg.segment('MRG');
    const patient: Patient = {
      id, changeType: this.type === 'ADT' ? this.adtChange() : 'UPDATE', correction: false,
      provenance: this.s.provenance(['PID-2', 'PID-3', 'PID-4', 'PID-5', 'PID-9', 'PID-7', 'PID-8', 'PID-11', 'PID-13', 'PID-14', 'PID-19', 'PID-20', 'PID-29', 'PID-30', ...(mrg ? ['MRG-1'] : [])]),
      identifiers,
      // PID-5 names, then PID-9 patient alias (same person, another name).
      names: [...names(pid, 5), ...names(pid, 9).map((n) => ({ ...n, use: n.use ?? 'anonymous' }))],
      birthDate: this.birthDate(pid.value(7)),
      gender: GENDER[pid.value(8) ?? ''] ?? null,
      addresses: addresses(pid, 11),
      telecoms: [...telecoms(pid, 13, 'home'), ...telecoms(pid, 14, 'work')],
      deceased: pid.value(30) === 'Y' ? true : pid.value(30) === 'N' ? false : null,
      deceasedAt: deathTime,
      maritalStatus: marital ? this.s.concept(codings(marital).map((c) => ({ ...c, system: c.system ?? 'HL70002' })), cweText(marital), { recordType: 'Patient', recordId: id, element: 'Patient.maritalStatus', sourceField: 'PID-16' }) : null,
      mergedIdentifiers: mrg ? cxIdentifiers(mrg, 1) : [],
    };
    this.records.patients.push(patient);
  }

  private birthDate(v: string | undefined): string | null {
    if (!v) return null;
    const t = this.s.hl7Time(v, 'PID-7');
    if (!t) return null;
    // Birth "date" sent with a time: the calendar date as the sender wrote it, never shifted to UTC.
    return t.date ?? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;
  }

  private mapEncounter(pv1: Hl7Segment): Encounter | null {
    const visit = cxIdentifiers(pv1, 19, 'VN');
    const cls = pv1.value(2);
    const admit = this.s.hl7Time(pv1.value(44), 'PV1-44');
    if (!visit.length && !admit && (!cls || cls === 'N') && !this.msg.segment('PV2')?.value(8)) return null;
    const klass = cls ? ENCOUNTER_CLASS[cls] : undefined;
    const change = this.type === 'ADT' ? this.adtChange() : 'UPDATE';
    const loc = reps(pv1, 3)[0];
    const disposition = reps(pv1, 36)[0];
    const admitType = reps(pv1, 4)[0];
    const pv2 = this.msg.segment('PV2');
    const expectedStart = this.s.hl7Time(pv2?.value(8), 'PV2-8');
    const expectedEnd = this.s.hl7Time(pv2?.value(9), 'PV2-9');
    const m = this.meta('Encounter', visit.length ? ['visit', visit[0].system, visit[0].value] : ['admit', this.patientId, pv1.value(44)], change, false,
      ['PV1-2', 'PV1-3', 'PV1-4', 'PV1-10', 'PV1-19', 'PV1-36', 'PV1-44', 'PV1-45', ...(expectedStart || expectedEnd ? ['PV2-8', 'PV2-9'] : [])]);
    const status = this.type === 'ADT' ? ADT_ENCOUNTER_STATUS[this.trigger] ?? (pv1.value(45) ? 'finished' : 'in-progress') : pv1.value(45) ? 'finished' : 'in-progress';
    // A planned encounter (pre-admission) has no actual admit yet: its period is the expected one (FHIR Encounter.period of a planned encounter).
    const planned = status === 'planned' || cls === 'P';
    const enc: Encounter = withMeta(m, {
      identifiers: visit,
      status,
      class: klass ? fixed(ACT_CODE, klass.code, klass.display) : cls ? { ...fixed(null, cls, null), mapping: 'UNMAPPED', unmapped: true, unmappedReason: 'NO_MAP_ENTRY' } : null,
      type: admitType ? this.s.concept(codings(admitType).map((c) => ({ ...c, system: c.system ?? 'HL70007' })), cweText(admitType), { recordType: 'Encounter', recordId: m.id, element: 'Encounter.type', sourceField: 'PV1-4' }) : null,
      period: {
        start: admit ?? (planned ? expectedStart : null),
        end: this.s.hl7Time(pv1.value(45), 'PV1-45') ?? (planned && !admit ? expectedEnd : null),
      },
      expectedPeriod: expectedStart || expectedEnd ? { start: expectedStart, end: expectedEnd } : null,
      location: loc ? [1, 2, 3, 4].map((j) => loc.component(j).value ?? '').join('^').replace(/\^+$/, '') || null : null,
      hospitalService: text(pv1.value(10)),
      dischargeDisposition: disposition ? this.s.concept(codings(disposition).map((c) => ({ ...c, system: c.system ?? 'HL70112' })), cweText(disposition), { recordType: 'Encounter', recordId: m.id, element: 'Encounter.dischargeDisposition', sourceField: 'PV1-36' }) : null,
    });
    if (enc.class?.unmapped) this.s.unmappedCodes.push({ recordType: 'Encounter', recordId: enc.id, element: 'Encounter.class', system: 'HL70004', code: cls!, display: null, reason: 'NO_MAP_ENTRY', sourceField: 'PV1-2' });
    this.records.encounters.push(enc);
    return enc;
  }

  /** ORC/OBR order groups with their OBX results (ORU, OUL, ORM, OML, REF...). */
  private mapOrdersAndResults(): void {
    let orc: Hl7Segment | undefined;
    let report: DiagnosticReport | null = null;
    let order: ServiceRequest | null = null;
    let obr: Hl7Segment | undefined;
    let parent: { type: CanonicalRecordType; id: string } | null = null;
    for (const seg of this.msg.segments()) {
      switch (seg.id) {
        case 'ORC': orc = seg; obr = undefined; report = null; order = null; parent = null; break;
        // A specimen's own OBX (OUL/OML SPM group) belong to the specimen, not to the order group before it.
        case 'SPM': obr = undefined; report = null; order = null; parent = null; break;
        // MDM: what follows TXA is the document's: its text lines are the content, any other OBX (a DICOM study
        // UID, an encapsulated PDF...) is an Observation that is part of the document.
        case 'TXA':
          if (this.type === 'MDM') { obr = undefined; report = null; order = null; parent = this.parents.get(seg) ?? null; }
          break;
        case 'RXO': case 'RXE': case 'RXA': case 'RXD': case 'PR1':
          parent = this.parents.get(seg) ?? parent;
          if (seg.id !== 'PR1') { obr = undefined; report = null; order = null; }
          break;
        case 'OBR': {
          obr = seg;
          parent = null;
          order = this.mapOrder(orc, seg);
          report = ['ORU', 'OUL', 'REF', 'RRI'].includes(this.type) || hasResults(this.msg, seg) ? this.mapReport(orc, seg, order) : null;
          if (this.type === 'ORU' || this.type === 'OUL') orc = undefined;
          break;
        }
        case 'OBX':
          // MDM text OBX segments are the document's body: DocumentReference.text (mapDocument).
          if (this.type === 'MDM' && this.msg.segment('TXA') && MDM_TEXT_TYPES.has(seg.value(2) ?? '')) break;
          this.mapObservation(seg, obr, report, order, parent);
          break;
        default: break;
      }
    }
    if (['ORM', 'OML', 'OMG'].includes(this.type)) this.setPrimary('ServiceRequest', this.records.serviceRequests[0]);
    if (['ORU', 'OUL'].includes(this.type)) this.setPrimary(this.records.diagnosticReports.length ? 'DiagnosticReport' : 'Observation', this.records.diagnosticReports[0] ?? this.records.observations[0]);
  }

  private orderKey(orc: Hl7Segment | undefined, obr: Hl7Segment | undefined): string[] {
    const filler = text(obr?.value(3)) ?? text(orc?.value(3));
    const placer = text(obr?.value(2)) ?? text(orc?.value(2));
    if (filler) return ['filler', filler, text(obr?.value(3, 1, 2)) ?? text(orc?.value(3, 1, 2)) ?? ''];
    if (placer) return ['placer', placer, text(obr?.value(2, 1, 2)) ?? text(orc?.value(2, 1, 2)) ?? ''];
    return ['msg', this.s.input.messageId, obr?.value(1) ?? orc?.value(2) ?? '', obr?.value(4) ?? ''];
  }

  /** The first segment `id` in the order group that starts at `start` (up to the next ORC, or OBR when it starts at an OBR). */
  private groupSegment(start: Hl7Segment, id: string): Hl7Segment | undefined {
    const segs = this.msg.segments();
    for (let j = segs.indexOf(start) + 1; j < segs.length; j++) {
      if (segs[j].id === id) return segs[j];
      if (segs[j].id === 'ORC' || (start.id === 'OBR' && segs[j].id === 'OBR')) return undefined;
    }
    return undefined;
  }

  private orderOccurrence(tq1: Hl7Segment | undefined, obr: Hl7Segment, orc: Hl7Segment | undefined): ClinicalTime | null {
    for (const [v, f] of [[tq1?.value(7), 'TQ1-7'], [obr.value(6), 'OBR-6'], [obr.value(7), 'OBR-7'], [orc?.value(15), 'ORC-15']] as Array<[string | undefined, string]>) {
      if (text(v)) return this.s.hl7Time(v, f);
    }
    return null;
  }

  private orderIdentifiers(orc: Hl7Segment | undefined, obr: Hl7Segment | undefined): Identifier[] {
    return [
      eiIdentifier(obr, 2, 'PLAC') ?? eiIdentifier(orc, 2, 'PLAC'),
      eiIdentifier(obr, 3, 'FILL') ?? eiIdentifier(orc, 3, 'FILL'),
    ].filter((x): x is Identifier => !!x);
  }

  private mapOrder(orc: Hl7Segment | undefined, obr: Hl7Segment): ServiceRequest {
    const control = text(orc?.value(1));
    const oc = control ? ORDER_CONTROL[control] : undefined;
    const result = RESULT_STATUS[obr.value(25) ?? ''];
    const key = this.orderKey(orc, obr);
    const m = this.meta('ServiceRequest', [...key, obr.value(4)], oc?.change ?? (this.type === 'ORU' || this.type === 'OUL' ? 'UPDATE' : 'CREATE'), false,
      ['ORC-1', 'ORC-2', 'ORC-3', 'ORC-9', 'ORC-12', 'OBR-2', 'OBR-3', 'OBR-4', 'OBR-6', 'OBR-7', 'OBR-16', 'OBR-27', 'OBR-31', 'TQ1-7', 'TQ1-9']);
    const tq1 = this.groupSegment(orc ?? obr, 'TQ1') ?? this.msg.segment('TQ1');
    const priority = text(tq1?.value(9)) ?? text(obr.value(27, 1, 6)) ?? text(orc?.value(7, 1, 6)) ?? text(obr.value(5));
    const sr: ServiceRequest = withMeta(m, {
      category: 'ORDER',
      identifiers: this.orderIdentifiers(orc, obr),
      status: oc?.status ?? (result ? (result.status === 'final' || result.status === 'corrected' ? 'completed' : 'active') : 'active'),
      intent: this.type === 'ORU' || this.type === 'OUL' || control === 'RE' ? 'filler-order' : 'order',
      orderControl: control,
      code: this.s.concept(codingsAt(obr, 4), cweText(reps(obr, 4)[0]), { recordType: 'ServiceRequest', recordId: m.id, element: 'ServiceRequest.code', sourceField: 'OBR-4' }),
      priority: priority ? PRIORITY[priority] ?? null : null,
      authoredOn: this.s.hl7Time(orc?.value(9) ?? obr.value(6), orc?.value(9) ? 'ORC-9' : 'OBR-6'),
      // When the service is to happen: the group's TQ1-7 start, else OBR-6 requested date/time, else OBR-7 (when it was done), else ORC-15.
      occurrence: this.orderOccurrence(this.groupSegment(orc ?? obr, 'TQ1'), obr, orc),
      requester: person(orc, 12) ?? person(obr, 16),
      reasons: reps(obr, 31).map((r, i) => this.s.concept(codings(r), cweText(r), { recordType: 'ServiceRequest', recordId: m.id, element: `ServiceRequest.reasonCode[${i}]`, sourceField: 'OBR-31' })),
    });
    this.records.serviceRequests.push(sr);
    return sr;
  }

  private mapReport(orc: Hl7Segment | undefined, obr: Hl7Segment, order: ServiceRequest): DiagnosticReport {
    const st = RESULT_STATUS[obr.value(25) ?? ''] ?? { status: 'unknown', change: 'CREATE' as ChangeType, correction: false };
    const m = this.meta('DiagnosticReport', [...this.orderKey(orc, obr), obr.value(4)], st.change, st.correction, ['OBR-2', 'OBR-3', 'OBR-4', 'OBR-7', 'OBR-22', 'OBR-25']);
    const report: DiagnosticReport = withMeta(m, {
      identifiers: this.orderIdentifiers(orc, obr),
      status: st.status,
      code: this.s.concept(codingsAt(obr, 4), cweText(reps(obr, 4)[0]), { recordType: 'DiagnosticReport', recordId: m.id, element: 'DiagnosticReport.code', sourceField: 'OBR-4' }),
      effective: this.s.hl7Time(obr.value(7), 'OBR-7'),
      issued: this.s.hl7Time(obr.value(22), 'OBR-22'),
      resultIds: [],
      orderId: order.id,
    });
    this.records.diagnosticReports.push(report);
    return report;
  }

  private mapObservation(obx: Hl7Segment, obr: Hl7Segment | undefined, report: DiagnosticReport | null, order: ServiceRequest | null,
    parent: { type: CanonicalRecordType; id: string } | null): void {
    const status = RESULT_STATUS[obx.value(11) ?? ''] ?? { status: 'unknown', change: 'CREATE' as ChangeType, correction: false };
    const codeRep = reps(obx, 3)[0];
    const codeList = codings(codeRep);
    const key = order ? ['order', order.id] : parent ? ['part-of', parent.id] : ['patient', this.patientId, obx.value(14) ?? obr?.value(7) ?? this.s.input.messageId];
    const m = this.meta('Observation', [...key, codeList[0]?.system, codeList[0]?.code, obx.value(4)], status.change, status.correction,
      ['OBX-2', 'OBX-3', 'OBX-4', 'OBX-5', 'OBX-6', 'OBX-7', 'OBX-8', 'OBX-11', 'OBX-14', ...(obr ? ['OBR-7', 'OBR-22'] : [])]);
    const code = this.s.concept(codeList, cweText(codeRep), { recordType: 'Observation', recordId: m.id, element: 'Observation.code', sourceField: 'OBX-3' });
    const valueType = text(obx.value(2));
    const unitRep = reps(obx, 6)[0];
    const unit = unitRep ? text(unitRep.component(1).value) ?? text(unitRep.component(2).value) : null;
    let valueQuantity: Quantity | null = null;
    let valueString: string | null = null;
    let valueCode = null;
    let valueTime: ClinicalTime | null = null;
    const first = reps(obx, 5)[0];
    if (first) {
      switch (valueType) {
        case 'NM': {
          const n = num(first.value);
          if (n === null) valueString = first.value ?? null;
          else valueQuantity = quantity(n, unit);
          break;
        }
        case 'SN': {
          const comparator = text(first.component(1).value);
          const n = num(first.component(2).value);
          const sep = text(first.component(3).value);
          if (n !== null && !sep) valueQuantity = quantity(n, unit, comparator);
          else valueString = [1, 2, 3, 4].map((j) => first.component(j).value ?? '').join('').trim() || null;
          break;
        }
        case 'CE': case 'CWE': case 'CNE': case 'CF':
          valueCode = this.s.concept(codings(first), cweText(first), { recordType: 'Observation', recordId: m.id, element: 'Observation.valueCodeableConcept', sourceField: 'OBX-5' });
          break;
        case 'DT': case 'DTM': case 'TS':
          valueTime = this.s.hl7Time(first.value, 'OBX-5');
          break;
        default: {
          const lines = reps(obx, 5).map((r) => r.components.map((c) => c.value ?? '').join(valueType === 'ST' || valueType === 'TX' || valueType === 'FT' ? '^' : '^').replace(/\^+$/, ''));
          valueString = lines.join('\n') || null;
        }
      }
    }
    const loinc = code.codings.filter((c) => c.system === LOINC).map((c) => c.code);
    const obs: Observation = withMeta(m, {
      status: status.status,
      code,
      valueType,
      valueQuantity,
      valueString,
      valueCode,
      valueTime,
      convertedValues: alternateQuantities(loinc, valueQuantity),
      referenceRange: referenceRange(text(obx.value(7))),
      interpretation: reps(obx, 8).flatMap((r) => (r.component(1).value ? [fixed(INTERPRETATION, r.component(1).value!, text(r.component(2).value))] : [])),
      effective: this.s.hl7Time(obx.value(14), 'OBX-14') ?? this.s.hl7Time(obr?.value(7), 'OBR-7'),
      issued: this.s.hl7Time(obr?.value(22), 'OBR-22'),
      reportId: report?.id ?? null,
      orderId: order?.id ?? null,
      subId: text(obx.value(4)),
      partOfId: order ? null : parent?.id ?? null,
      partOfType: order ? null : parent?.type ?? null,
    });
    if (valueQuantity && unit && !valueQuantity.ucum) this.s.issue('UNIT.NOT_UCUM', 'the result unit is not a UCUM unit and has no alias; kept as sent', 'OBX-6');
    report?.resultIds.push(obs.id);
    this.records.observations.push(obs);
  }

  private mapAppointments(): void {
    const sch = this.msg.segment('SCH');
    if (!sch) return;
    const st = SIU_STATUS[this.trigger] ?? { status: 'booked', change: 'UPDATE' as ChangeType };
    const ids = [eiIdentifier(sch, 1, 'PLAC'), eiIdentifier(sch, 2, 'FILL')].filter((x): x is Identifier => !!x);
    const m = this.meta('Appointment', ids.length ? [ids[0].type, ids[0].value, ids[0].system] : ['msg', this.s.input.messageId], st.change, false,
      ['SCH-1', 'SCH-2', 'SCH-6', 'SCH-7', 'SCH-8', 'SCH-9', 'SCH-10', 'SCH-11.3', 'SCH-11.4', 'SCH-11.5', 'TQ1-7', 'TQ1-8', 'AIS-3', 'AIS-4', 'AIS-7', 'AIS-8', 'AIP-3', 'AIL-3']);
    const ais = this.msg.segment('AIS');
    const tq1 = this.msg.segment('TQ1');
    const tq = schTiming(sch);
    const startField = text(tq1?.value(7)) ? 'TQ1-7' : tq.start ? 'SCH-11.4' : text(ais?.value(4)) ? 'AIS-4' : text(this.msg.segment('AIL')?.value(6)) ? 'AIL-6' : text(this.msg.segment('AIP')?.value(6)) ? 'AIP-6' : null;
    const startValue = startField === 'TQ1-7' ? tq1!.value(7) : startField === 'SCH-11.4' ? tq.start! : startField === 'AIS-4' ? ais!.value(4) : startField === 'AIL-6' ? this.msg.segment('AIL')!.value(6) : startField ? this.msg.segment('AIP')!.value(6) : undefined;
    const start = startField ? this.s.hl7Time(startValue, startField) : null;
    const endField = text(tq1?.value(8)) ? 'TQ1-8' : tq.end ? 'SCH-11.5' : null;
    let end = endField ? this.s.hl7Time(endField === 'TQ1-8' ? tq1!.value(8) : tq.end!, endField) : null;
    const duration = durationMinutes(num(ais?.value(7)) ?? num(sch.value(9)), text(ais?.value(8)) ?? text(sch.value(10))) ?? tq.durationMinutes;
    if (!end && start?.instant != null && duration !== null) end = { ...start, instant: start.instant + duration * 60000, original: `${start.original} + ${duration} min` };
    const concept = (seg: Hl7Segment | undefined, field: number, element: string, sourceField: string) => {
      const r = reps(seg, field)[0];
      return r ? this.s.concept(codings(r), cweText(r), { recordType: 'Appointment', recordId: m.id, element, sourceField }) : null;
    };
    const appt: Appointment = withMeta(m, {
      identifiers: ids,
      status: text(sch.value(25)) ? FILLER_STATUS[sch.value(25)!] ?? st.status : st.status,
      serviceType: concept(ais, 3, 'Appointment.serviceType', 'AIS-3'),
      appointmentType: concept(sch, 8, 'Appointment.appointmentType', 'SCH-8'),
      reason: concept(sch, 7, 'Appointment.reasonCode', 'SCH-7') ?? concept(sch, 6, 'Appointment.reasonCode', 'SCH-6'),
      start, end,
      durationMinutes: duration,
      participants: [...['AIP', 'AIL', 'AIG'].flatMap((id) => this.msg.segments(id).map((s) => person(s, 3) ?? '').filter(Boolean))],
    });
    this.records.appointments.push(appt);
    this.setPrimary('Appointment', appt);
  }

  private mapDocument(): void {
    for (const [index, txa] of this.msg.segments('TXA').entries()) this.mapTxa(txa, index);
  }

  /** TXA → DocumentReference; in MDM the OBX segments are its content (TX/FT/ST lines → text). */
  private mapTxa(txa: Hl7Segment, index: number): void {
    const trig = this.trigger;
    const replacement = ['T09', 'T10'].includes(trig);
    const change: ChangeType = ['T01', 'T02'].includes(trig) ? 'CREATE' : trig === 'T11' ? 'CANCEL' : 'UPDATE';
    const uid = text(txa.value(12));
    const m = this.meta('DocumentReference', uid ? ['uid', uid] : ['msg', this.s.input.messageId, index ? String(index) : null], change, replacement, ['TXA-2', 'TXA-3', 'TXA-4', 'TXA-9', 'TXA-12', 'TXA-13', 'TXA-17', 'OBX-5']);
    const typeRep = reps(txa, 2)[0];
    const completion = text(txa.value(17));
    const content = this.type !== 'MDM' ? [] : this.msg.segments('OBX').filter((o) => MDM_TEXT_TYPES.has(o.value(2) ?? '')).flatMap((o) => reps(o, 5).map((r) => r.value ?? ''));
    const parent = text(txa.value(13));
    const doc: DocumentReference = withMeta(m, {
      identifiers: [uid ? { value: uid, system: null, type: 'UDN' } : null, eiIdentifier(txa, 14, 'PLAC'), eiIdentifier(txa, 15, 'FILL')].filter((x): x is Identifier => !!x),
      status: trig === 'T11' || completion === 'CA' ? 'entered-in-error' : 'current',
      docStatus: completion ? DOC_COMPLETION[completion] ?? null : null,
      type: this.s.concept(codings(typeRep).map((c) => ({ ...c, system: c.system ?? 'HL70270' })), cweText(typeRep), { recordType: 'DocumentReference', recordId: m.id, element: 'DocumentReference.type', sourceField: 'TXA-2' }),
      date: this.s.hl7Time(txa.value(4) ?? txa.value(6), txa.value(4) ? 'TXA-4' : 'TXA-6'),
      contentType: text(txa.value(3)),
      text: content.length ? content.join('\n') : null,
      authors: [person(txa, 9), person(txa, 10)].filter((x): x is string => !!x),
      replacesId: parent && parent !== uid ? canonicalId('DocumentReference', [this.src, 'uid', parent]) : null,
    });
    this.records.documents.push(doc);
    this.parents.set(txa, { type: 'DocumentReference', id: doc.id });
    this.setPrimary('DocumentReference', doc);
  }

  private mapReferral(): void {
    const rf1 = this.msg.segment('RF1');
    if (!rf1) return;
    const refId = eiIdentifier(rf1, 6, 'REF') ?? eiIdentifier(rf1, 11, 'REF');
    const status = text(rf1.value(1));
    const m = this.meta('ServiceRequest', refId ? ['referral', refId.value, refId.system] : ['referral-msg', this.s.input.messageId],
      this.trigger === 'I12' ? 'CREATE' : this.trigger === 'I14' ? 'CANCEL' : 'UPDATE', false, ['RF1-1', 'RF1-2', 'RF1-3', 'RF1-6', 'RF1-7', 'RF1-10', 'DG1-3']);
    const typeRep = reps(rf1, 3)[0] ?? reps(rf1, 5)[0];
    const reasons = [
      ...reps(rf1, 10).map((r, i) => this.s.concept(codings(r).map((c) => ({ ...c, system: c.system ?? 'HL70336' })), cweText(r), { recordType: 'ServiceRequest', recordId: m.id, element: `ServiceRequest.reasonCode[${i}]`, sourceField: 'RF1-10' })),
      ...this.msg.segments('DG1').map((d, i) => this.s.concept(codingsAt(d, 3), text(d.value(4)) ?? cweText(reps(d, 3)[0]), { recordType: 'ServiceRequest', recordId: m.id, element: `ServiceRequest.reasonCode[dg1-${i}]`, sourceField: 'DG1-3' })),
    ];
    const sr: ServiceRequest = withMeta(m, {
      category: 'REFERRAL',
      identifiers: refId ? [refId] : [],
      status: status === 'R' ? 'revoked' : status === 'E' ? 'completed' : status === 'A' || status === 'P' ? 'active' : this.trigger === 'I14' ? 'revoked' : 'active',
      intent: 'order',
      orderControl: null,
      code: this.s.concept(codings(typeRep).map((c) => ({ ...c, system: c.system ?? 'HL70281' })), cweText(typeRep), { recordType: 'ServiceRequest', recordId: m.id, element: 'ServiceRequest.code', sourceField: 'RF1-3' }),
      priority: PRIORITY[rf1.value(2) ?? ''] ?? null,
      authoredOn: this.s.hl7Time(rf1.value(7), 'RF1-7'),
      occurrence: this.s.hl7Time(rf1.value(9), 'RF1-9'),
      requester: person(this.msg.segments('PRD').find((p) => p.value(1) === 'RP'), 2),
      reasons,
    });
    this.records.serviceRequests.push(sr);
    this.setPrimary('ServiceRequest', sr);
  }

  private mapVaccinations(): void {
    let orc: Hl7Segment | undefined;
    const segs = this.msg.segments();
    segs.forEach((seg, i) => {
      if (seg.id === 'ORC') orc = seg;
      if (seg.id !== 'RXA') return;
      const rxr = segs[i + 1]?.id === 'RXR' ? segs[i + 1] : undefined;
      const vaccineRep = reps(seg, 5)[0];
      const action = text(seg.value(21));
      const completion = text(seg.value(20));
      const filler = text(orc?.value(3));
      const m = this.meta('Immunization', filler ? ['filler', filler] : ['rxa', this.patientId, seg.value(3), seg.value(5)],
        action === 'D' ? 'CANCEL' : action === 'U' ? 'UPDATE' : 'CREATE', action === 'U', ['RXA-3', 'RXA-5', 'RXA-6', 'RXA-7', 'RXA-15', 'RXA-17', 'RXA-20', 'RXA-21', 'RXR-1', 'RXR-2']);
      const amount = num(seg.value(6));
      const imm: Immunization = withMeta(m, {
        status: action === 'D' ? 'entered-in-error' : completion === 'RE' || completion === 'NA' ? 'not-done' : 'completed',
        vaccine: this.s.concept(codings(vaccineRep), cweText(vaccineRep), { recordType: 'Immunization', recordId: m.id, element: 'Immunization.vaccineCode', sourceField: 'RXA-5' }),
        occurrence: this.s.hl7Time(seg.value(3), 'RXA-3'),
        dose: amount !== null && amount !== 999 ? quantity(amount, text(seg.value(7))) : null,
        lotNumber: text(seg.value(15)),
        manufacturer: text(seg.value(17, 1, 2)) ?? text(seg.value(17)),
        route: rxr && reps(rxr, 1)[0] ? this.s.concept(codingsAt(rxr, 1), cweText(reps(rxr, 1)[0]), { recordType: 'Immunization', recordId: m.id, element: 'Immunization.route', sourceField: 'RXR-1' }) : null,
        site: rxr && reps(rxr, 2)[0] ? this.s.concept(codingsAt(rxr, 2), cweText(reps(rxr, 2)[0]), { recordType: 'Immunization', recordId: m.id, element: 'Immunization.site', sourceField: 'RXR-2' }) : null,
      });
      this.records.immunizations.push(imm);
      this.parents.set(seg, { type: 'Immunization', id: imm.id });
    });
    this.setPrimary('Immunization', this.records.immunizations[0]);
  }

  private mapMedications(): void {
    let orc: Hl7Segment | undefined;
    let request: MedicationRequest | null = null;
    const segs = this.msg.segments();
    segs.forEach((seg, i) => {
      if (seg.id === 'ORC') { orc = seg; request = null; return; }
      const rxr = segs.slice(i + 1, i + 6).find((s) => s.id === 'RXR');
      // RXO (the order as placed) and RXE (the pharmacy's encoded order) each state a medication request.
      if (seg.id === 'RXE' || seg.id === 'RXO') {
        const isRxe = seg.id === 'RXE';
        const control = text(orc?.value(1));
        const oc = control ? ORDER_CONTROL[control] : undefined;
        const medRep = reps(seg, isRxe ? 2 : 1)[0];
        const key = this.orderKey(orc, undefined);
        const m = this.meta('MedicationRequest', [...key, codings(medRep)[0]?.code, ...(isRxe ? [] : ['RXO'])], oc?.change ?? 'CREATE', false,
          isRxe ? ['ORC-1', 'ORC-2', 'ORC-3', 'ORC-9', 'RXE-1', 'RXE-2', 'RXE-3', 'RXE-5', 'RXE-10', 'RXE-11', 'RXR-1'] : ['ORC-1', 'ORC-2', 'ORC-3', 'ORC-9', 'RXO-1', 'RXO-2', 'RXO-4', 'RXO-11', 'RXO-12', 'RXR-1']);
        const amount = num(seg.value(isRxe ? 3 : 2));
        const unitRep = reps(seg, isRxe ? 5 : 4)[0];
        const dispense = num(seg.value(isRxe ? 10 : 11));
        const dispenseUnit = reps(seg, isRxe ? 11 : 12)[0];
        const req: MedicationRequest = withMeta(m, {
          identifiers: this.orderIdentifiers(orc, undefined),
          status: oc?.status ?? 'active',
          intent: 'order',
          medication: this.s.concept(codings(medRep), cweText(medRep), { recordType: 'MedicationRequest', recordId: m.id, element: 'MedicationRequest.medication', sourceField: isRxe ? 'RXE-2' : 'RXO-1' }),
          dose: amount !== null ? quantity(amount, unitRep ? text(unitRep.component(1).value) : null) : null,
          route: rxr && reps(rxr, 1)[0] ? this.s.concept(codingsAt(rxr, 1).map((c) => ({ ...c, system: c.system ?? 'HL70162' })), cweText(reps(rxr, 1)[0]), { recordType: 'MedicationRequest', recordId: m.id, element: 'MedicationRequest.route', sourceField: 'RXR-1' }) : null,
          frequency: text(this.msg.segment('TQ1')?.value(3)) ?? text(seg.value(1, 1, 2)),
          dispenseQuantity: dispense !== null ? quantity(dispense, dispenseUnit ? text(dispenseUnit.component(1).value) : null) : null,
          authoredOn: this.s.hl7Time(orc?.value(9), 'ORC-9'),
        });
        request = req;
        this.records.medicationRequests.push(req);
        this.parents.set(seg, { type: 'MedicationRequest', id: req.id });
      }
      if (seg.id === 'RXD' || seg.id === 'RXA') {
        const isRxd = seg.id === 'RXD';
        const medRep = reps(seg, isRxd ? 2 : 5)[0];
        const when = seg.value(3);
        const m = this.meta('MedicationAdministration', [...this.orderKey(orc, undefined), seg.id, seg.value(1), when, codings(medRep)[0]?.code], 'CREATE', false,
          isRxd ? ['RXD-2', 'RXD-3', 'RXD-4', 'RXD-5'] : ['RXA-3', 'RXA-5', 'RXA-6', 'RXA-7', 'RXA-20']);
        const amount = num(seg.value(isRxd ? 4 : 6));
        const unitRep = reps(seg, isRxd ? 5 : 7)[0];
        const ma: MedicationAdministration = withMeta(m, {
          status: isRxd ? 'completed' : seg.value(20) === 'RE' || seg.value(20) === 'NA' ? 'not-done' : 'completed',
          medication: this.s.concept(codings(medRep), cweText(medRep), { recordType: 'MedicationAdministration', recordId: m.id, element: 'MedicationAdministration.medication', sourceField: isRxd ? 'RXD-2' : 'RXA-5' }),
          dose: amount !== null ? quantity(amount, unitRep ? text(unitRep.component(1).value) : null) : null,
          route: rxr && reps(rxr, 1)[0] ? this.s.concept(codingsAt(rxr, 1).map((c) => ({ ...c, system: c.system ?? 'HL70162' })), cweText(reps(rxr, 1)[0]), { recordType: 'MedicationAdministration', recordId: m.id, element: 'MedicationAdministration.route', sourceField: 'RXR-1' }) : null,
          effective: this.s.hl7Time(when, isRxd ? 'RXD-3' : 'RXA-3'),
          orderId: (request as MedicationRequest | null)?.id ?? null,
        });
        this.records.medicationAdministrations.push(ma);
        this.parents.set(seg, { type: 'MedicationAdministration', id: ma.id });
      }
    });
    if (this.type === 'RDS' || this.type === 'RAS') this.setPrimary('MedicationAdministration', this.records.medicationAdministrations[0]);
    this.setPrimary('MedicationRequest', this.records.medicationRequests[0]);
  }

  /** PR1 → Procedure (code PR1-3, else PR1-4 text; performed PR1-5; minutes PR1-7; performers PR1-8 anesthesiologist, PR1-11 surgeon, PR1-12 practitioner). */
  private mapProcedures(): void {
    for (const pr1 of this.msg.segments('PR1')) {
      const codeRep = reps(pr1, 3)[0];
      const codeList = codings(codeRep);
      const m = this.meta('Procedure', ['pr1', this.patientId, this.encounterId, codeList[0]?.system, codeList[0]?.code ?? pr1.value(4), pr1.value(5)], this.type === 'ADT' && ADT_CANCEL.has(this.trigger) ? 'CANCEL' : 'UPDATE', false,
        ['PR1-3', 'PR1-4', 'PR1-5', 'PR1-6', 'PR1-7', 'PR1-8', 'PR1-11', 'PR1-12']);
      const proc: Procedure = withMeta(m, {
        encounterId: this.encounterId,
        status: 'completed',
        code: this.s.concept(codeList, text(pr1.value(4)) ?? cweText(codeRep), { recordType: 'Procedure', recordId: m.id, element: 'Procedure.code', sourceField: 'PR1-3' }),
        performed: this.s.hl7Time(pr1.value(5), 'PR1-5'),
        durationMinutes: num(pr1.value(7)),
        performers: [person(pr1, 8), person(pr1, 11), person(pr1, 12)].filter((x): x is string => !!x),
      });
      this.records.procedures.push(proc);
      this.parents.set(pr1, { type: 'Procedure', id: proc.id });
    }
  }

  /**
   * IN1 (+ the IN2 that follows it) → Coverage. The member numbers IN2 carries (Medicare IN2-6, Medicaid IN2-8,
   * military IN2-10) and the policy number IN1-36 identify the coverage, not the patient: they stay here.
   */
  private mapCoverages(): void {
    const segs = this.msg.segments();
    segs.forEach((in1, i) => {
      if (in1.id !== 'IN1') return;
      const in2 = segs[i + 1]?.id === 'IN2' ? segs[i + 1] : undefined;
      const planRep = reps(in1, 2)[0];
      const payorId = cxIdentifiers(in1, 3)[0];
      const policy = text(in1.value(36));
      const m = this.meta('Coverage', ['in1', this.patientId, payorId?.value ?? in1.value(4), planRep ? codings(planRep)[0]?.code : null, policy ?? in1.value(8)],
        'UPDATE', false, ['IN1-1', 'IN1-2', 'IN1-3', 'IN1-4', 'IN1-8', 'IN1-12', 'IN1-13', 'IN1-17', 'IN1-36', 'IN1-49', ...(in2 ? ['IN2-6', 'IN2-8', 'IN2-10', 'IN2-61'] : [])]);
      const identifiers: Identifier[] = [
        policy ? { value: policy, system: null, type: 'POLICY' } : null,
        ...cxIdentifiers(in1, 49, 'MEMBER'),
        in2 && text(in2.value(6)) ? { value: in2.value(6)!, system: null, type: 'MEDICARE' } : null,
        in2 && text(in2.value(8)) ? { value: in2.value(8)!, system: null, type: 'MEDICAID' } : null,
        in2 && text(in2.value(10)) ? { value: in2.value(10)!, system: null, type: 'MILITARY' } : null,
        in2 && text(in2.value(61)) ? { value: in2.value(61)!, system: null, type: 'MB' } : null,
      ].filter((x): x is Identifier => !!x);
      const relationship = reps(in1, 17)[0];
      const expiration = this.s.hl7Time(in1.value(13), 'IN1-13');
      const cov: Coverage = withMeta(m, {
        identifiers,
        status: 'active',
        plan: planRep ? this.s.concept(codings(planRep).map((c) => ({ ...c, system: c.system ?? 'HL70072' })), cweText(planRep), { recordType: 'Coverage', recordId: m.id, element: 'Coverage.class.plan', sourceField: 'IN1-2' }) : null,
        payor: payorId?.value ?? text(in1.value(4)),
        groupNumber: text(in1.value(8)),
        subscriberRelationship: relationship ? text(relationship.component(1).value) : null,
        period: { start: this.s.hl7Time(in1.value(12), 'IN1-12'), end: expiration },
        order: num(in1.value(1)),
      });
      this.records.coverages.push(cov);
    });
  }

  /**
   * ACC (accident) and PDA (death and autopsy) carry clinical facts in dedicated segments: each becomes an
   * Observation with a code of this project's system (the facts have no LOINC code of their own).
   */
  private mapAccidentAndDeath(): void {
    const own = (code: string, display: string): CodeableConcept => ({ codings: [fixed(CLINMESH_OBSERVATION_CODE, code, display)], text: display });
    const yesNo = (v: string | undefined): CodeableConcept | null => {
      const c = text(v);
      return c ? { codings: [fixed(YES_NO, c, c === 'Y' ? 'Yes' : c === 'N' ? 'No' : null)], text: null } : null;
    };
    const add = (code: CodeableConcept, fields: string[], key: string, valuesFor: (id: string) => Partial<Observation>) => {
      const m = this.meta('Observation', ['fact', this.patientId, this.encounterId, key], 'UPDATE', false, fields);
      const values = valuesFor(m.id);
      this.records.observations.push(withMeta(m, {
        status: 'final', code, valueType: null, valueQuantity: null, valueString: null, valueCode: null, valueTime: null, convertedValues: [],
        referenceRange: null, interpretation: [], effective: null, issued: null, reportId: null, orderId: null, subId: null, partOfId: null, partOfType: null,
        ...values,
      }));
    };
    for (const acc of this.msg.segments('ACC')) {
      const typeRep = reps(acc, 2)[0];
      add(own('injury-incident', 'Injury incident'), ['ACC-1', 'ACC-2', 'ACC-3', 'ACC-8'], `acc|${acc.value(1) ?? ''}`, (id) => ({
        valueType: typeRep ? 'CWE' : 'ST',
        valueCode: typeRep ? this.s.concept(codings(typeRep).map((c) => ({ ...c, system: c.system ?? 'HL70050' })), cweText(typeRep), { recordType: 'Observation', recordId: id, element: 'Observation.valueCodeableConcept', sourceField: 'ACC-2' }) : null,
        valueString: text(acc.value(8)) ?? text(acc.value(3)),
        effective: this.s.hl7Time(acc.value(1), 'ACC-1'),
      }));
    }
    const pda = this.msg.segment('PDA');
    if (pda) {
      if (text(pda.value(3))) add(own('death-certificate', 'Death certificate'), ['PDA-3', 'PDA-4', 'PDA-5'], 'pda-3', () => ({ valueType: 'ID', valueCode: yesNo(pda.value(3)), effective: this.s.hl7Time(pda.value(4), 'PDA-4') }));
      if (text(pda.value(6))) add(own('autopsy', 'Autopsy'), ['PDA-6', 'PDA-7', 'PDA-8'], 'pda-6', () => ({ valueType: 'ID', valueCode: yesNo(pda.value(6)), effective: this.s.hl7Time(pda.value(7, 1, 1), 'PDA-7.1') }));
      if (text(pda.value(9))) add(own('coroner', 'Coroner'), ['PDA-9'], 'pda-9', () => ({ valueType: 'ID', valueCode: yesNo(pda.value(9)) }));
      const causeRep = reps(pda, 1)[0];
      if (causeRep) {
        const causeCodes = codings(causeRep);
        const m = this.meta('Condition', ['pda-1', this.patientId, causeCodes[0]?.system, causeCodes[0]?.code], 'UPDATE', false, ['PDA-1']);
        this.records.conditions.push(withMeta(m, {
          code: this.s.concept(causeCodes, cweText(causeRep), { recordType: 'Condition', recordId: m.id, element: 'Condition.code', sourceField: 'PDA-1' }),
          clinicalStatus: 'active', category: 'death-cause', onset: null, recorded: this.s.hl7Time(pda.value(4), 'PDA-4'), diagnosisType: null,
        }));
      }
      const procedure = (code: string, display: string, when: ClinicalTime | null, fields: string[], performer: string | null) => {
        const m = this.meta('Procedure', ['pda', this.patientId, code], 'UPDATE', false, fields);
        this.records.procedures.push(withMeta(m, { encounterId: this.encounterId, status: 'completed', code: { codings: [fixed(CLINMESH_PROCEDURE_CODE, code, display)], text: display }, performed: when, durationMinutes: null, performers: performer ? [performer] : [] }));
      };
      if (pda.value(3) === 'Y') procedure('death-certification', 'Death certification', this.s.hl7Time(pda.value(4), 'PDA-4'), ['PDA-3', 'PDA-4', 'PDA-5'], person(pda, 5));
      if (pda.value(6) === 'Y') procedure('autopsy-performed', 'Autopsy performed', this.s.hl7Time(pda.value(7, 1, 1), 'PDA-7.1'), ['PDA-6', 'PDA-7', 'PDA-8'], person(pda, 8));
    }
  }

  private mapConditions(): void {
    for (const dg1 of this.msg.segments('DG1')) {
      const codeRep = reps(dg1, 3)[0];
      const codeList = codings(codeRep).map((c) => ({ ...c, system: c.system ?? text(dg1.value(2)) }));
      const m = this.meta('Condition', ['dg1', this.patientId, codeList[0]?.system, codeList[0]?.code ?? dg1.value(4), text(dg1.value(20))], this.type === 'ADT' ? this.adtChange() === 'MERGE' ? 'UPDATE' : this.adtChange() : 'CREATE', false,
        ['DG1-2', 'DG1-3', 'DG1-4', 'DG1-5', 'DG1-6', 'DG1-19', 'DG1-20']);
      const cond: Condition = withMeta(m, {
        code: this.s.concept(codeList, text(dg1.value(4)) ?? cweText(codeRep), { recordType: 'Condition', recordId: m.id, element: 'Condition.code', sourceField: 'DG1-3' }),
        clinicalStatus: 'active',
        category: 'encounter-diagnosis',
        onset: this.s.hl7Time(dg1.value(5), 'DG1-5'),
        recorded: this.s.hl7Time(dg1.value(19), 'DG1-19'),
        diagnosisType: text(dg1.value(6)),
      });
      this.records.conditions.push(cond);
    }
    for (const prb of this.msg.segments('PRB')) {
      const action = text(prb.value(1));
      const codeRep = reps(prb, 3)[0];
      const m = this.meta('Condition', ['prb', this.patientId, text(prb.value(4)) ?? codings(codeRep)[0]?.code], action === 'DE' ? 'CANCEL' : action === 'AD' ? 'CREATE' : 'UPDATE', action === 'CO', ['PRB-1', 'PRB-2', 'PRB-3', 'PRB-4', 'PRB-14', 'PRB-16']);
      const lifeCycle = text(prb.value(14)) ?? '';
      const cond: Condition = withMeta(m, {
        code: this.s.concept(codings(codeRep), cweText(codeRep), { recordType: 'Condition', recordId: m.id, element: 'Condition.code', sourceField: 'PRB-3' }),
        clinicalStatus: action === 'DE' ? null : /resolv|inactiv/i.test(lifeCycle) ? 'resolved' : 'active',
        category: 'problem-list-item',
        onset: this.s.hl7Time(prb.value(16), 'PRB-16'),
        recorded: this.s.hl7Time(prb.value(2), 'PRB-2'),
        diagnosisType: null,
      });
      this.records.conditions.push(cond);
    }
    if (this.type === 'PPR' || this.type === 'PGL') this.setPrimary('Condition', this.records.conditions[0]);
  }

  /** IAM (allergy information, A60) → AllergyIntolerance: type IAM-2, code IAM-3, severity IAM-4, reactions IAM-5, action IAM-6, onset IAM-11. */
  private mapIamAllergies(): void {
    for (const iam of this.msg.segments('IAM')) {
      const codeRep = reps(iam, 3)[0];
      const codeList = codings(codeRep);
      const action = text(iam.value(6));
      const m = this.meta('AllergyIntolerance', ['al1', this.patientId, codeList[0]?.system, codeList[0]?.code], action === 'D' ? 'CANCEL' : action === 'A' ? 'CREATE' : 'UPDATE', false,
        ['IAM-2', 'IAM-3', 'IAM-4', 'IAM-5', 'IAM-6', 'IAM-11']);
      const severity = text(iam.value(4, 1, 1));
      const type = text(iam.value(2, 1, 1));
      this.records.allergies.push(withMeta(m, {
        code: this.s.concept(codeList, cweText(codeRep), { recordType: 'AllergyIntolerance', recordId: m.id, element: 'AllergyIntolerance.code', sourceField: 'IAM-3' }),
        category: type ? ALLERGY_CATEGORY[type] ?? null : null,
        criticality: severity === 'SV' ? 'high' : severity === 'MI' || severity === 'MO' ? 'low' : severity === 'U' ? 'unable-to-assess' : null,
        severity,
        reactions: reps(iam, 5).map((r) => r.value ?? '').filter(Boolean),
        onset: this.s.hl7Time(iam.value(11), 'IAM-11'),
      }));
    }
  }

  private mapAllergies(): void {
    this.mapIamAllergies();
    for (const al1 of this.msg.segments('AL1')) {
      const codeRep = reps(al1, 3)[0];
      const codeList = codings(codeRep);
      const fallbackCode = codeList.length ? codeList : text(al1.value(3)) ? [{ code: al1.value(3)!, display: null, system: null }] : [];
      const m = this.meta('AllergyIntolerance', ['al1', this.patientId, fallbackCode[0]?.system, fallbackCode[0]?.code], 'UPDATE', false, ['AL1-2', 'AL1-3', 'AL1-4', 'AL1-5', 'AL1-6']);
      const severity = text(al1.value(4));
      const type = text(al1.value(2));
      const allergy: AllergyIntolerance = withMeta(m, {
        code: this.s.concept(fallbackCode, cweText(codeRep), { recordType: 'AllergyIntolerance', recordId: m.id, element: 'AllergyIntolerance.code', sourceField: 'AL1-3' }),
        category: type ? ALLERGY_CATEGORY[type] ?? null : null,
        criticality: severity === 'SV' ? 'high' : severity === 'MI' || severity === 'MO' ? 'low' : severity === 'U' ? 'unable-to-assess' : null,
        severity,
        reactions: reps(al1, 5).map((r) => r.value ?? '').filter(Boolean),
        onset: this.s.hl7Time(al1.value(6), 'AL1-6'),
      });
      this.records.allergies.push(allergy);
    }
  }
}

const FILLER_STATUS: Record<string, string> = {
  Booked: 'booked', Pending: 'pending', Waitlist: 'waitlist', Cancelled: 'cancelled', Complete: 'fulfilled', Started: 'arrived',
  Noshow: 'noshow', Deleted: 'entered-in-error', Overbook: 'booked', Blocked: 'booked', Dc: 'cancelled',
};
/** OBX value types whose lines make up an MDM document's text. */
const MDM_TEXT_TYPES = new Set(['TX', 'FT', 'ST']);
const DOC_COMPLETION: Record<string, string> = { AU: 'final', LA: 'final', DI: 'preliminary', DO: 'preliminary', IP: 'preliminary', IN: 'preliminary', PA: 'preliminary', CA: 'entered-in-error' };
const ALLERGY_CATEGORY: Record<string, string> = { DA: 'medication', FA: 'food', MA: 'medication', EA: 'environment', AA: 'environment', PA: 'environment', LA: 'environment', MC: 'medication' };

function hasResults(msg: Hl7Message, obr: Hl7Segment): boolean {
  const segs = msg.segments();
  const i = segs.indexOf(obr);
  for (let j = i + 1; j < segs.length; j++) {
    if (segs[j].id === 'OBX') return true;
    if (segs[j].id === 'OBR' || segs[j].id === 'ORC') return false;
  }
  return false;
}

function fixed(system: string | null, code: string, display: string | null): Coding {
  return { system, code, display, mapping: 'STANDARD', unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null };
}

/** OBX-7 forms: "70-105", "70_105", "<200", ">=5", "3.5 - 5.0". */
export function referenceRange(raw: string | null): ReferenceRange | null {
  if (!raw) return null;
  const range = /^\s*(-?\d+(?:\.\d+)?)\s*(?:-|_|to)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(raw);
  if (range) return { low: Number(range[1]), high: Number(range[2]), text: raw };
  const upper = /^\s*<=?\s*(-?\d+(?:\.\d+)?)\s*$/.exec(raw);
  if (upper) return { low: null, high: Number(upper[1]), text: raw };
  const lower = /^\s*>=?\s*(-?\d+(?:\.\d+)?)\s*$/.exec(raw);
  if (lower) return { low: Number(lower[1]), high: null, text: raw };
  return { low: null, high: null, text: raw };
}

function durationMinutes(value: number | null, unit: string | null): number | null {
  if (value === null) return null;
  const u = (unit ?? 'min').toLowerCase();
  if (u.startsWith('h')) return Math.round(value * 60);
  if (u === 's' || u.startsWith('sec')) return Math.round(value / 60);
  if (u.startsWith('d')) return Math.round(value * 1440);
  if (u.startsWith('w')) return Math.round(value * 10080);
  return Math.round(value);
}

/**
 * SCH-11 appointment timing (TQ, deprecated but still sent): component 3 duration (`30`, `M30`, `H1`, `2 hours`),
 * 4 start, 5 end. The first repetition with a start wins.
 */
export function schTiming(sch: Hl7Segment): { start: string | null; end: string | null; durationMinutes: number | null } {
  const rep = reps(sch, 11).find((r) => text(r.component(4).value ?? undefined)) ?? reps(sch, 11)[0];
  if (!rep) return { start: null, end: null, durationMinutes: null };
  const start = text(rep.component(4).value ?? undefined);
  const end = text(rep.component(5).value ?? undefined);
  const d = text(rep.component(3).value ?? undefined);
  let minutes: number | null = null;
  if (d) {
    const m = /^\s*([SMHDW])?\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(d);
    if (m) minutes = durationMinutes(Number(m[2]), m[1] ? { S: 's', M: 'min', H: 'h', D: 'd', W: 'wk' }[m[1]]! : m[3] || null);
  }
  return { start, end, durationMinutes: minutes };
}
