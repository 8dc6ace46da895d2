import { Hl7Message, Hl7Repetition, Hl7Segment, readHl7Date } from '@clinmesh/hl7v2';
import {
  MergeDirective, MessageDemographics, PatientDemographics, SSN_SYSTEM, SourceIdentifier, canonicalIdentifier, splitStreetLine,
} from './patient-demographics.model';

/** Triggers whose MRG-1 says "the prior identifier's patient is this PID's patient". */
const MERGE_TRIGGERS: Record<string, MergeDirective['kind']> = { A40: 'merge', A47: 'identifier-change' };

/**
 * Reads the patient demographics of an HL7 v2 message: PID-3 identifiers
 * (assigning authority PID-3.4, type PID-3.5), PID-5 name, PID-7 birth date,
 * PID-8 sex, PID-11 address, PID-13 phone, PID-19 SSN; and the merge
 * directives of ADT^A40/A47 (each MRG with the PID before it).
 * A41 (merge account) and A45 (move visit) change no patient identity and
 * carry no directive.
 */
export function readHl7Demographics(message: Hl7Message): MessageDemographics {
  const pids = message.segments('PID');
  const patient = pids.length ? readPid(pids[0]) : undefined;
  const merges: MergeDirective[] = [];
  const trigger = message.header.messageType === 'ADT' ? message.header.triggerEvent ?? '' : '';
  const kind = MERGE_TRIGGERS[trigger];
  if (kind) {
    let currentPid: Hl7Segment | undefined;
    for (const segment of message.segments()) {
      if (segment.id === 'PID') currentPid = segment;
      if (segment.id !== 'MRG' || !currentPid) continue;
      const prior = segment.field(1).repetitions.map((r) => identifierOf(r, false)).find((i): i is SourceIdentifier => i !== undefined);
      if (prior) merges.push({ kind, trigger, prior, survivor: readPid(currentPid) });
    }
  }
  return { patient: patient && hasPatient(patient) ? patient : undefined, merges };
}

function hasPatient(p: PatientDemographics): boolean {
  return p.identifiers.length > 0;
}

function readPid(pid: Hl7Segment): PatientDemographics {
  const identifiers = pid.field(3).repetitions.map((r) => identifierOf(r)).filter((i): i is SourceIdentifier => i !== undefined);
  // HL7 2.1–2.3 carried the MRN in PID-2 when PID-3 is empty (ingest keys the message the same way).
  const external = pid.field(2).value;
  if (!identifiers.length && external && external !== '""') identifiers.push({ system: '', value: external, type: 'MR' });
  const ssn = pid.field(19).value;
  if (ssn && ssn !== '""' && !identifiers.some((i) => i.system === SSN_SYSTEM)) identifiers.push({ system: SSN_SYSTEM, value: ssn.replace(/[^0-9A-Za-z]/g, ''), type: 'SS' });

  const name = chooseName(pid.field(5).repetitions);
  const out: PatientDemographics = { identifiers };
  if (name) {
    assign(out, 'familyName', name.component(1).value);
    assign(out, 'givenName', name.component(2).value);
    assign(out, 'middleName', name.component(3).value);
  }
  const dob = pid.field(7).value;
  if (dob && dob !== '""') {
    try {
      // PID-7 is a DTM; a birth date is its date part, whatever time and offset follow.
      out.birthDate = readHl7Date(dob.trim().slice(0, 8)).iso;
    } catch {
      // An unreadable birth date is missing evidence, not a reason to drop the message.
    }
  }
  assign(out, 'sex', pid.field(8).value);
  const address = pid.field(11).repetitions.find((r) => r.present);
  if (address) {
    // XAD-1 is an SAD: street or mailing address & street name & dwelling number.
    const sad = address.component(1);
    const line = [sad.subcomponent(1).value, sad.subcomponent(2).value].filter(nonEmpty).join(' ');
    const { streetNumber, street } = splitStreetLine(line);
    const addr = { streetNumber: streetNumber ?? clean(sad.subcomponent(3).value), street, line2: clean(address.component(2).value), city: clean(address.component(3).value), state: clean(address.component(4).value), postcode: clean(address.component(5).value) };
    const compact = Object.fromEntries(Object.entries(addr).filter(([, v]) => v !== undefined));
    if (Object.keys(compact).length) out.address = compact;
  }
  const phone = pid.field(13).repetitions.map(phoneOf).find(nonEmpty);
  if (phone) out.phone = phone;
  return out;
}

/**
 * CX → identifier, read like ingest does (CX-4 namespace id) so the record key
 * ingest computed can be reproduced here (MRG-1 is kept as sent for that reason).
 */
function identifierOf(rep: Hl7Repetition, canonical = true): SourceIdentifier | undefined {
  const value = rep.component(1).value?.trim();
  if (!value || value === '""') return undefined;
  const type = rep.component(5).value?.trim() || undefined;
  const id = { value, system: rep.component(4).value ?? '', ...(type ? { type } : {}) };
  return canonical ? canonicalIdentifier(id) : id;
}

/** The legal name (XPN-7 = L) when it has a given name, else the first name with a family name. */
function chooseName(reps: readonly Hl7Repetition[]): Hl7Repetition | undefined {
  const named = reps.filter((r) => nonEmpty(r.component(1).value));
  return named.find((r) => r.component(7).value === 'L' && nonEmpty(r.component(2).value)) ?? named.find((r) => nonEmpty(r.component(2).value)) ?? named[0];
}

/** XTN: XTN-1 (pre-2.5 free text) or country/area/local number (XTN-5/6/7). */
function phoneOf(rep: Hl7Repetition): string | undefined {
  const structured = [rep.component(6).value, rep.component(7).value].filter(nonEmpty).join('');
  const text = structured || rep.component(1).value || '';
  const digits = text.replace(/\D/g, '');
  return digits.length >= 7 ? digits : undefined;
}

function assign<K extends keyof PatientDemographics>(target: PatientDemographics, key: K, value: string | undefined): void {
  const v = clean(value);
  if (v !== undefined) (target as Record<string, unknown>)[key] = v;
}

function clean(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v && v !== '""' ? v : undefined;
}

function nonEmpty(v: string | undefined): v is string {
  return v !== undefined && v.trim() !== '' && v !== '""';
}
