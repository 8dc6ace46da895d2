import { MessageDemographics, PatientDemographics, SourceIdentifier, canonicalIdentifier, splitStreetLine } from './patient-demographics.model';

type Json = Record<string, unknown>;

/**
 * Reads the patient of a FHIR R4 payload: a Patient resource, or the first
 * Patient entry of a Bundle. identifier (system, value, type.coding[0].code),
 * name (official, else usual, else first: family, given[0], given[1] as
 * middle), birthDate, gender, address[0] (line[0] split into number and
 * street, line[1], city, state, postalCode) and the first phone telecom.
 * FHIR merges ($merge, Patient.link replaced-by) are not read here.
 */
export function readFhirDemographics(body: unknown): MessageDemographics {
  const patient = findPatient(body);
  if (!patient) return { merges: [] };
  const identifiers: SourceIdentifier[] = [];
  for (const id of arrayOf(patient.identifier)) {
    if (typeof id.value !== 'string' || !id.value.trim()) continue;
    const coding = arrayOf((id.type as Json | undefined)?.coding)[0];
    const type = typeof coding?.code === 'string' ? coding.code : undefined;
    identifiers.push(canonicalIdentifier({ system: typeof id.system === 'string' ? id.system : '', value: id.value.trim(), ...(type ? { type } : {}) }));
  }
  if (!identifiers.length) return { merges: [] };
  const out: PatientDemographics = { identifiers };
  const names = arrayOf(patient.name);
  const name = names.find((n) => n.use === 'official') ?? names.find((n) => n.use === 'usual') ?? names[0];
  if (name) {
    const given = arrayOf<string>(name.given as never).filter((g): g is string => typeof g === 'string');
    if (typeof name.family === 'string' && name.family.trim()) out.familyName = name.family.trim();
    if (given[0]) out.givenName = given[0];
    if (given[1]) out.middleName = given[1];
  }
  if (typeof patient.birthDate === 'string' && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(patient.birthDate)) out.birthDate = patient.birthDate;
  if (typeof patient.gender === 'string') out.sex = patient.gender;
  const address = arrayOf(patient.address).find((a) => a.use !== 'old') ?? arrayOf(patient.address)[0];
  if (address) {
    const lines = arrayOf<string>(address.line as never).filter((l): l is string => typeof l === 'string');
    // Some senders (e.g. v2→FHIR converters) put the house number alone in line[0] and the street in line[1].
    const numberOnly = lines.length > 1 && /^\d+[A-Za-z]?$/.test(lines[0].trim());
    const street = numberOnly ? { streetNumber: lines[0].trim(), street: lines[1].trim() } : splitStreetLine(lines[0]);
    // Object.assign, not `{ ...street, ... }`: keys added after a leading spread are slow in V8 (~2 µs each), per record.
    const parsed = Object.assign({}, street, {
      line2: numberOnly ? lines[2] : lines[1],
      city: str(address.city),
      state: str(address.state),
      postcode: str(address.postalCode),
    });
    const compact = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined && v !== ''));
    if (Object.keys(compact).length) out.address = compact;
  }
  const phone = arrayOf(patient.telecom).find((t) => t.system === 'phone' && typeof t.value === 'string');
  const digits = phone ? String(phone.value).replace(/\D/g, '') : '';
  if (digits.length >= 7) out.phone = digits;
  return { patient: out, merges: [] };
}

function findPatient(body: unknown): Json | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const root = body as Json;
  if (root.resourceType === 'Patient') return root;
  if (root.resourceType === 'Bundle') {
    for (const entry of arrayOf(root.entry)) {
      const resource = entry.resource as Json | undefined;
      if (resource?.resourceType === 'Patient') return resource;
    }
  }
  return undefined;
}

function arrayOf<T = Json>(value: unknown): T[] {
  return Array.isArray(value) ? (value.filter((v) => v !== null && v !== undefined) as T[]) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}
