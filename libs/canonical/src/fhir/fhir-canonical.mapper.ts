import type {
  Address, ChangeType, ClinicalTime, CodeableConcept, Coding, ContactPoint, HumanName, Identifier, Quantity,
} from '@clinmesh/schemas';
import { CanonicalMapping, CanonicalRecordType, RECORD_LISTS, SECURITY_LABEL_SYSTEMS, canonicalId, emptyRecords } from '../model/canonical-records';
import { MappingSession } from '../model/mapping-session';
import { LOINC, SourceCoding } from '../terminology/terminology-map';
import { alternateQuantities, quantity } from '../units/ucum-units';
import { LOCAL_SYSTEM_PREFIX } from './canonical-fhir.renderer';

type Json = Record<string, any>;
const SUPPORTED = new Set<string>(Object.keys(RECORD_LISTS));
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/**
 * FHIR R4 → canonical records, from a single resource or any Bundle
 * (transaction, batch, collection, message, searchset, history). Resources
 * of types outside the canonical model are counted as issues, not errors.
 */
/** The fields every record of a FHIR entry starts with. */
interface RecordBase { id: string; changeType: string; correction: boolean; provenance: unknown }

/**
 * A record: its base fields, then its own, in that order. Written out, not as `{ ...base, ... }`: V8
 * (Node 20) defines every key added after a leading spread on a slow path (~2 µs each; the HL7 v2
 * mapper's `withMeta` says more). Same keys, same order.
 */
function withBase(base: RecordBase, fields: Json): Json {
  return { id: base.id, changeType: base.changeType, correction: base.correction, provenance: base.provenance, ...fields };
}

export function mapFhir(session: MappingSession): CanonicalMapping {
  const raw = typeof session.input.raw === 'string' ? session.input.raw : session.input.raw.toString('utf8');
  // A UTF-8 byte order mark is legal in front of JSON sent by Windows tools (the shared ObservationBundle.json has one).
  const root = JSON.parse(raw.replace(/^\uFEFF/, '')) as Json;
  return new FhirMapper(root, session).map();
}

interface Entry { resource: Json; method: string | null; fullUrl: string | null }

class FhirMapper {
  private readonly records = emptyRecords();
  private readonly src: string;
  private readonly ids = new Map<string, string>();
  /** Record type of each canonical id made from this input. */
  private readonly types = new Map<string, CanonicalRecordType>();
  private patientId: string | null = null;
  private primary: CanonicalMapping['primary'] = null;

  constructor(private readonly root: Json, private readonly s: MappingSession) {
    this.src = `${s.input.sourceSystem}|${s.input.sourceFacility}`;
  }

  map(): CanonicalMapping {
    const entries: Entry[] = this.root.resourceType === 'Bundle'
      ? (Array.isArray(this.root.entry) ? this.root.entry : []).filter((e: Json) => e?.resource).map((e: Json) => ({ resource: e.resource, method: e.request?.method ?? null, fullUrl: e.fullUrl ?? null }))
      : [{ resource: this.root, method: null, fullUrl: null }];
    // Ids first, so references between entries (Observation.subject → Patient) resolve in any order.
    entries.forEach((e, i) => {
      const type = e.resource.resourceType as string;
      if (!SUPPORTED.has(type)) return;
      const id = this.idFor(type as CanonicalRecordType, e.resource, i);
      if (e.resource.id) this.ids.set(`${type}/${e.resource.id}`, id);
      if (e.fullUrl) this.ids.set(e.fullUrl, id);
      this.types.set(id, type as CanonicalRecordType);
      if (type === 'Patient' && !this.patientId) this.patientId = id;
    });
    const skipped = new Map<string, number>();
    entries.forEach((e, i) => {
      const type = e.resource.resourceType as string;
      if (!SUPPORTED.has(type)) {
        if (!['MessageHeader', 'Provenance', 'Organization', 'Practitioner', 'PractitionerRole', 'Location', 'Specimen', 'Account', 'RelatedPerson', 'Device'].includes(type)) skipped.set(type, (skipped.get(type) ?? 0) + 1);
        return;
      }
      this.mapResource(type as CanonicalRecordType, e, i);
    });
    for (const [type, n] of skipped) this.s.issue('RESOURCE.NOT_IN_MODEL', `${n} ${type} resource(s) have no canonical record type`, type);
    const timestamp = this.s.fhirTime(this.root.timestamp ?? this.root.meta?.lastUpdated, this.root.timestamp ? 'Bundle.timestamp' : 'meta.lastUpdated');
    const r = this.records;
    return {
      records: r, primary: this.primary, unmappedCodes: this.s.unmappedCodes, issues: this.s.issues, recordedAt: timestamp?.instant ?? null,
      occurredAt: r.observations[0]?.effective?.instant ?? r.encounters[0]?.period.start?.instant ?? r.appointments[0]?.start?.instant ?? r.immunizations[0]?.occurrence?.instant ?? null,
      securityLabels: this.securityLabels(entries),
    };
  }

  /** meta.security of the bundle and of every resource in it (confidentiality and sensitivity codings only). */
  private securityLabels(entries: Entry[]): string[] {
    const out = new Set<string>();
    for (const meta of [this.root.meta, ...entries.map((e) => e.resource.meta)]) {
      for (const c of Array.isArray(meta?.security) ? meta.security : []) {
        if (typeof c?.code === 'string' && c.code && (!c.system || SECURITY_LABEL_SYSTEMS.includes(c.system))) out.add(c.code.toUpperCase());
      }
    }
    return [...out].sort();
  }

  private idFor(type: CanonicalRecordType, r: Json, index: number): string {
    if (type === 'Patient' && this.s.input.epid) return canonicalId('Patient', ['epid', this.s.input.epid]);
    if (r.id) return canonicalId(type, [this.src, 'fhir', type, r.id]);
    const ident = Array.isArray(r.identifier) ? r.identifier.find((x: Json) => x?.value) : null;
    if (ident) return canonicalId(type, [this.src, 'fhir-identifier', ident.system, ident.value]);
    return canonicalId(type, [this.src, 'fhir-entry', this.s.input.messageId, String(index)]);
  }

  /**
   * What an Observation belongs to: basedOn a ServiceRequest → orderId; partOf an event (Immunization, Procedure,
   * MedicationAdministration...), basedOn a MedicationRequest, or derivedFrom a DocumentReference → partOfId/partOfType.
   */
  private observationLinks(r: Json): { orderId: string | null; partOfId: string | null; partOfType: string | null } {
    const refs = (list: unknown) => (Array.isArray(list) ? list : []).map((x: Json) => this.ref(x)).filter((x): x is string => !!x);
    const basedOn = refs(r.basedOn);
    const orderId = basedOn.find((id) => this.types.get(id) === 'ServiceRequest') ?? null;
    const partOf = refs(r.partOf)[0] ?? basedOn.find((id) => this.types.get(id) === 'MedicationRequest')
      ?? refs(r.derivedFrom).find((id) => this.types.get(id) === 'DocumentReference') ?? null;
    return { orderId, partOfId: partOf, partOfType: partOf ? this.types.get(partOf) ?? null : null };
  }

  /** The code of a referenced Medication (in the Bundle or contained), else the reference's display. */
  private medication(reference: Json | undefined): Json {
    const ref = reference?.reference;
    if (typeof ref === 'string') {
      const entries: Json[] = this.root.resourceType === 'Bundle' ? (this.root.entry ?? []) : [];
      const hit = entries.find((e) => e?.resource?.resourceType === 'Medication' && (e.fullUrl === ref || `Medication/${e.resource.id}` === ref))?.resource
        ?? (this.root.contained ?? []).find((c: Json) => c.resourceType === 'Medication' && `#${c.id}` === ref);
      if (hit?.code) return hit.code;
    }
    return { text: reference?.display };
  }

  private ref(reference: Json | undefined): string | null {
    const r = reference?.reference;
    return typeof r === 'string' ? this.ids.get(r) ?? null : null;
  }

  private change(r: Json, method: string | null): { change: ChangeType; correction: boolean } {
    const status = String(r.status ?? '');
    if (method === 'DELETE' || ['entered-in-error', 'cancelled', 'revoked'].includes(status)) return { change: 'CANCEL', correction: status === 'entered-in-error' };
    if (['amended', 'corrected'].includes(status)) return { change: 'UPDATE', correction: true };
    if (r.resourceType === 'Patient' && Array.isArray(r.link) && r.link.some((l: Json) => l.type === 'replaces')) return { change: 'MERGE', correction: false };
    if (method === 'PUT' || method === 'PATCH') return { change: 'UPDATE', correction: false };
    return { change: 'CREATE', correction: false };
  }

  private concept(cc: Json | undefined, where: { type: string; id: string; element: string }): CodeableConcept {
    // Systems this project rendered from a local name (urn:clinmesh:codesystem:<name>) read back as that name.
    const system = (v: unknown) => (typeof v === 'string' && v.startsWith(LOCAL_SYSTEM_PREFIX) ? decodeURIComponent(v.slice(LOCAL_SYSTEM_PREFIX.length)) : (v as string | undefined) ?? null);
    const codings: SourceCoding[] = (Array.isArray(cc?.coding) ? cc!.coding : []).map((c: Json) => ({ system: system(c.system), code: c.code ?? null, display: c.display ?? null }));
    return this.s.concept(codings, cc?.text ?? null, { recordType: where.type, recordId: where.id, element: where.element, sourceField: `${where.type}.${where.element.split('.').slice(1).join('.')}` });
  }

  private optConcept(cc: Json | undefined, where: { type: string; id: string; element: string }): CodeableConcept | null {
    return cc && (cc.coding?.length || cc.text) ? this.concept(cc, where) : null;
  }

  private time(v: unknown, field: string): ClinicalTime | null {
    return this.s.fhirTime(v, field);
  }

  private mapResource(type: CanonicalRecordType, e: Entry, index: number): void {
    const r = e.resource;
    const id = this.idFor(type, r, index);
    const { change, correction } = this.change(r, e.method);
    const fields = Object.keys(r).filter((k) => !['resourceType', 'meta', 'text', 'contained'].includes(k)).map((k) => `${type}.${k}`);
    const base = { id, changeType: change, correction, provenance: this.s.provenance(fields) };
    const patientId = this.ref(r.subject ?? r.patient) ?? (type === 'Patient' ? null : this.patientId);
    const w = (element: string) => ({ type, id, element: `${type}.${element}` });
    const idents = identifiers(r.identifier);
    let record: Json;
    switch (type) {
      case 'Patient':
        record = withBase(base, {
          identifiers: idents, names: (r.name ?? []).map(humanName), birthDate: r.birthDate ?? null, gender: r.gender ?? null,
          addresses: (r.address ?? []).map(address), telecoms: (r.telecom ?? []).filter((t: Json) => t.value).map((t: Json): ContactPoint => ({ system: t.system ?? null, value: t.value, use: t.use ?? null })),
          deceased: typeof r.deceasedBoolean === 'boolean' ? r.deceasedBoolean : r.deceasedDateTime ? true : null,
          deceasedAt: this.time(r.deceasedDateTime, 'Patient.deceasedDateTime'),
          maritalStatus: this.optConcept(r.maritalStatus, w('maritalStatus')),
          mergedIdentifiers: (r.link ?? []).filter((l: Json) => l.type === 'replaces' && l.other?.identifier).map((l: Json) => identifiers([l.other.identifier])[0]),
        });
        break;
      case 'Encounter':
        record = withBase(base, {
          patientId, identifiers: idents, status: r.status ?? null,
          class: r.class?.code ? fhirCoding(r.class, ACT_CODE) : null,
          type: this.optConcept(r.type?.[0], w('type')),
          period: { start: this.time(r.period?.start, 'Encounter.period.start'), end: this.time(r.period?.end, 'Encounter.period.end') },
          location: r.location?.[0]?.location?.display ?? null,
          hospitalService: r.serviceType?.text ?? r.serviceType?.coding?.[0]?.code ?? null,
          dischargeDisposition: this.optConcept(r.hospitalization?.dischargeDisposition, w('hospitalization.dischargeDisposition')),
          expectedPeriod: null,
        });
        break;
      case 'Observation': {
        const code = this.concept(r.code, w('code'));
        // Repeated NM values (HL7 v2 OBX-5 `60~120`) arrive as components with the observation's own code: the first is the value.
        if (!Object.keys(r).some((k) => k.startsWith('value'))) {
          const own = (r.component ?? []).find((c: Json) => (c.code?.coding ?? []).some((x: Json) => (r.code?.coding ?? []).some((y: Json) => y.code === x.code)));
          const key = own && Object.keys(own).find((k) => k.startsWith('value'));
          if (key) r[key] = own[key];
        }
        const vq = r.valueQuantity ? quantity(typeof r.valueQuantity.value === 'number' ? r.valueQuantity.value : null, r.valueQuantity.code ?? r.valueQuantity.unit ?? null, r.valueQuantity.comparator ?? null) : null;
        if (vq && r.valueQuantity.unit) vq.unit = r.valueQuantity.unit;
        const valueKey = Object.keys(r).find((k) => k.startsWith('value'));
        const rr = r.referenceRange?.[0];
        record = withBase(base, {
          patientId, status: r.status ?? null, code,
          valueType: (r.extension ?? []).find((x: Json) => x.url === 'urn:clinmesh:extension:v2-value-type')?.valueCode ?? (valueKey ? valueKey.slice(5) : null),
          valueQuantity: vq,
          valueString: r.valueString ?? (typeof r.valueInteger === 'number' ? String(r.valueInteger) : typeof r.valueBoolean === 'boolean' ? String(r.valueBoolean) : null),
          valueCode: this.optConcept(r.valueCodeableConcept, w('valueCodeableConcept')),
          valueTime: this.time(r.valueDateTime, 'Observation.valueDateTime'),
          convertedValues: alternateQuantities(code.codings.filter((c) => c.system === LOINC).map((c) => c.code), vq),
          referenceRange: rr ? { low: rr.low?.value ?? null, high: rr.high?.value ?? null, text: rr.text ?? null } : null,
          interpretation: (r.interpretation ?? []).flatMap((i: Json) => (i.coding ?? []).filter((c: Json) => c.code).map((c: Json) => fhirCoding(c, null))),
          effective: this.time(r.effectiveDateTime ?? r.effectiveInstant ?? r.effectivePeriod?.start, 'Observation.effective'),
          issued: this.time(r.issued, 'Observation.issued'),
          reportId: null, subId: null, ...this.observationLinks(r),
        });
        break;
      }
      case 'DiagnosticReport':
        record = withBase(base, {
          patientId, identifiers: idents, status: r.status ?? null, code: this.concept(r.code, w('code')),
          effective: this.time(r.effectiveDateTime ?? r.effectivePeriod?.start, 'DiagnosticReport.effective'),
          issued: this.time(r.issued, 'DiagnosticReport.issued'),
          resultIds: (r.result ?? []).map((x: Json) => this.ref(x)).filter(Boolean), orderId: this.ref(r.basedOn?.[0]),
        });
        break;
      case 'ServiceRequest': {
        const referral = (r.category ?? []).some((c: Json) => (c.coding ?? []).some((x: Json) => x.code === '3457005' || /referral/i.test(x.display ?? ''))) || r.intent === 'proposal';
        record = withBase(base, {
          patientId, category: referral ? 'REFERRAL' : 'ORDER', identifiers: idents, status: r.status ?? null, intent: r.intent ?? null, orderControl: null,
          code: this.concept(r.code, w('code')), priority: r.priority ?? null,
          authoredOn: this.time(r.authoredOn, 'ServiceRequest.authoredOn'),
          occurrence: this.time(r.occurrenceDateTime ?? r.occurrencePeriod?.start, 'ServiceRequest.occurrence'),
          requester: r.requester?.display ?? r.requester?.reference ?? null,
          reasons: (r.reasonCode ?? []).map((c: Json, i: number) => this.concept(c, w(`reasonCode[${i}]`))),
        });
        break;
      }
      case 'MedicationRequest': {
        const dose = r.dosageInstruction?.[0];
        const dq = dose?.doseAndRate?.[0]?.doseQuantity;
        const disp = r.dispenseRequest?.quantity;
        record = withBase(base, {
          patientId, identifiers: idents, status: r.status ?? null, intent: r.intent ?? null,
          medication: this.concept(r.medicationCodeableConcept ?? this.medication(r.medicationReference), w('medication')),
          dose: dq ? quantity(dq.value ?? null, dq.code ?? dq.unit ?? null) : null,
          route: this.optConcept(dose?.route, w('dosageInstruction.route')), frequency: dose?.text ?? null,
          dispenseQuantity: disp ? quantity(disp.value ?? null, disp.code ?? disp.unit ?? null) : null,
          authoredOn: this.time(r.authoredOn, 'MedicationRequest.authoredOn'),
        });
        break;
      }
      case 'MedicationAdministration': {
        const d = r.dosage?.dose;
        record = withBase(base, {
          patientId, status: r.status ?? null,
          medication: this.concept(r.medicationCodeableConcept ?? this.medication(r.medicationReference), w('medication')),
          dose: d ? quantity(d.value ?? null, d.code ?? d.unit ?? null) : null,
          route: this.optConcept(r.dosage?.route, w('dosage.route')),
          effective: this.time(r.effectiveDateTime ?? r.effectivePeriod?.start, 'MedicationAdministration.effective'),
          orderId: this.ref(r.request),
        });
        break;
      }
      case 'Immunization':
        record = withBase(base, {
          patientId, status: r.status ?? null, vaccine: this.concept(r.vaccineCode, w('vaccineCode')),
          occurrence: this.time(r.occurrenceDateTime, 'Immunization.occurrenceDateTime'),
          dose: r.doseQuantity ? quantity(r.doseQuantity.value ?? null, r.doseQuantity.code ?? r.doseQuantity.unit ?? null) : null,
          lotNumber: r.lotNumber ?? null, manufacturer: r.manufacturer?.display ?? null,
          route: this.optConcept(r.route, w('route')), site: this.optConcept(r.site, w('site')),
        });
        break;
      case 'Appointment':
        record = withBase(base, {
          patientId: this.ref((r.participant ?? []).find((p: Json) => /^Patient\//.test(p.actor?.reference ?? ''))?.actor) ?? this.patientId,
          identifiers: idents, status: r.status ?? null,
          serviceType: this.optConcept(r.serviceType?.[0], w('serviceType')), appointmentType: this.optConcept(r.appointmentType, w('appointmentType')),
          reason: this.optConcept(r.reasonCode?.[0], w('reasonCode')),
          start: this.time(r.start, 'Appointment.start'), end: this.time(r.end, 'Appointment.end'),
          durationMinutes: typeof r.minutesDuration === 'number' ? r.minutesDuration : null,
          participants: (r.participant ?? []).map((p: Json) => p.actor?.display ?? '').filter(Boolean),
        });
        break;
      case 'Condition':
        record = withBase(base, {
          patientId, code: this.concept(r.code, w('code')),
          clinicalStatus: r.clinicalStatus?.coding?.[0]?.code ?? null, category: r.category?.[0]?.coding?.[0]?.code ?? null,
          onset: this.time(r.onsetDateTime ?? r.onsetPeriod?.start, 'Condition.onset'),
          recorded: this.time(r.recordedDate, 'Condition.recordedDate'), diagnosisType: null,
        });
        break;
      case 'AllergyIntolerance':
        record = withBase(base, {
          patientId, code: this.concept(r.code, w('code')), category: r.category?.[0] ?? null, criticality: r.criticality ?? null,
          severity: r.reaction?.[0]?.severity ?? null,
          reactions: (r.reaction ?? []).flatMap((x: Json) => (x.manifestation ?? []).map((m: Json) => m.text ?? m.coding?.[0]?.display ?? m.coding?.[0]?.code ?? '')).filter(Boolean),
          onset: this.time(r.onsetDateTime, 'AllergyIntolerance.onsetDateTime'),
        });
        break;
      case 'DocumentReference': {
        const att = r.content?.[0]?.attachment;
        record = withBase(base, {
          patientId, identifiers: [...identifiers(r.masterIdentifier ? [r.masterIdentifier] : []), ...idents], status: r.status ?? null, docStatus: r.docStatus ?? null,
          type: this.concept(r.type, w('type')), date: this.time(r.date, 'DocumentReference.date'),
          contentType: att?.contentType ?? null,
          text: att?.data && /^text\//.test(att.contentType ?? '') ? Buffer.from(att.data, 'base64').toString('utf8') : null,
          authors: (r.author ?? []).map((a: Json) => a.display ?? a.reference ?? '').filter(Boolean),
          replacesId: this.ref((r.relatesTo ?? []).find((x: Json) => x.code === 'replaces')?.target),
        });
        break;
      }
      case 'Procedure':
        record = withBase(base, {
          patientId, encounterId: this.ref(r.encounter), status: r.status ?? null, code: this.concept(r.code, w('code')),
          performed: this.time(r.performedDateTime ?? r.performedPeriod?.start, 'Procedure.performed'),
          durationMinutes: null,
          performers: (r.performer ?? []).map((p: Json) => p.actor?.display ?? p.actor?.reference ?? '').filter(Boolean),
        });
        break;
      case 'Coverage': {
        const cls = (kind: string) => (r.class ?? []).find((c: Json) => (c.type?.coding ?? []).some((x: Json) => x.code === kind));
        const plan = cls('plan');
        record = withBase(base, {
          patientId: this.ref(r.beneficiary) ?? this.patientId, identifiers: idents, status: r.status ?? null,
          plan: plan?.value ? this.s.concept([{ system: null, code: String(plan.value), display: plan.name ?? null }], plan.name ?? null, { recordType: 'Coverage', recordId: id, element: 'Coverage.class.plan', sourceField: 'Coverage.class' }) : null,
          payor: r.payor?.[0]?.display ?? r.payor?.[0]?.identifier?.value ?? r.payor?.[0]?.reference ?? null,
          groupNumber: cls('group')?.value ?? null,
          subscriberRelationship: r.relationship?.coding?.[0]?.code ?? null,
          period: { start: this.time(r.period?.start, 'Coverage.period.start'), end: this.time(r.period?.end, 'Coverage.period.end') },
          order: typeof r.order === 'number' ? r.order : null,
        });
        break;
      }
    }
    if (type !== 'Patient' && record!.patientId === undefined) record!.patientId = patientId;
    (this.records[RECORD_LISTS[type]] as Json[]).push(record!);
    if (!this.primary && type !== 'Patient') this.primary = { type, id, changeType: change };
    if (type === 'Patient' && !this.primary && this.isLast(type)) this.primary = { type, id, changeType: change };
  }

  /** A Patient is primary only when nothing else in the message is. */
  private isLast(type: string): boolean {
    const entries = this.root.resourceType === 'Bundle' ? (this.root.entry ?? []).map((e: Json) => e?.resource?.resourceType) : [this.root.resourceType];
    return !entries.some((t: string) => t !== type && SUPPORTED.has(t));
  }
}

function identifiers(list: Json[] | undefined): Identifier[] {
  return (list ?? []).filter((i) => i?.value).map((i) => ({ system: i.system ?? null, value: String(i.value), type: i.type?.coding?.[0]?.code ?? null }));
}

function humanName(n: Json): HumanName {
  return { family: n.family ?? null, given: n.given ?? [], prefix: n.prefix ?? [], suffix: n.suffix ?? [], use: n.use ?? null };
}

function address(a: Json): Address {
  return { lines: a.line ?? [], city: a.city ?? null, state: a.state ?? null, postalCode: a.postalCode ?? null, country: a.country ?? null, use: a.use ?? null };
}

function fhirCoding(c: Json, defaultSystem: string | null): Coding {
  return { system: c.system ?? defaultSystem, code: String(c.code), display: c.display ?? null, mapping: 'STANDARD', unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null };
}

export type { Quantity };
