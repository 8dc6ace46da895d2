/**
 * Typed builders for realistic HL7 v2 test messages (ADT^A01, ORU^R01), so
 * load and fault tests can make thousands of distinct messages with known
 * control ids, patients and result flags. MSH-15/16 are left empty
 * (original acknowledgement mode: one AA/AE/AR per message); `AL|NE` there
 * would ask for an enhanced-mode commit ACK (CA) instead, which ingest honours.
 */
export interface AdtOptions {
  controlId: string;
  mrn: string;
  trigger?: string;
  sendingApplication?: string;
  facility?: string;
  family?: string;
  given?: string;
  birthDate?: string;
  /** Seed of the derived demographics (default: the MRN); give two records one key to make them one person. */
  personKey?: string;
}

const FAMILIES = ['NGUYEN', 'OKAFOR', 'SCHMIDT', 'HARRIS', 'KOWALSKI', 'MORALES', 'TANAKA', 'OBRIEN', 'PATEL', 'LINDQVIST', 'ABARA', 'CHEN', 'DUBOIS', 'ROSSI', 'WALSH', 'MENDES'];
const GIVENS = ['AMARA', 'BRUNO', 'CLARA', 'DMITRI', 'ELIF', 'FATIMA', 'GUSTAV', 'HANA', 'IVAN', 'JOANNA', 'KOFI', 'LEILA', 'MATEO', 'NORA', 'OSKAR', 'PRIYA'];
const STREETS = ['MAIN ST', 'OAK AVE', 'RIVER RD', 'HILL CT', 'ELM ST', 'PARK BLVD', 'LAKE DR', 'MILL LN'];

/**
 * Demographics derived from the MRN: each test patient is a different
 * person (the identity service would rightly link records that share name,
 * birth date and address), yet the same MRN always gets the same person.
 */
export function demographicsFor(mrn: string): { family: string; given: string; birthDate: string; sex: 'F' | 'M'; street: string; phone: string } {
  let h = 2166136261;
  for (const ch of mrn) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const pick = <T>(list: T[], shift: number) => list[(h >>> shift) % list.length];
  const year = 1930 + (h % 80);
  const month = String(1 + ((h >>> 7) % 12)).padStart(2, '0');
  const day = String(1 + ((h >>> 11) % 28)).padStart(2, '0');
  return {
    family: pick(FAMILIES, 3), given: pick(GIVENS, 9), birthDate: `${year}${month}${day}`, sex: h & 1 ? 'F' : 'M',
    street: `${1 + (h % 997)} ${pick(STREETS, 13)}`, phone: `(217)555-${String(h % 10000).padStart(4, '0')}`,
  };
}

export function adtMessage(o: AdtOptions): string {
  const trigger = o.trigger ?? 'A01';
  const d = demographicsFor(o.personKey ?? o.mrn);
  return [
    `MSH|^~\\&|${o.sendingApplication ?? 'TESTEHR'}|${o.facility ?? 'TESTHOSP'}|CLINMESH|CLINMESH|20261121083000+0000||ADT^${trigger}^ADT_A01|${o.controlId}|P|2.5.1||||||UNICODE UTF-8`,
    `EVN|${trigger}|20261121083000+0000`,
    `PID|1||${o.mrn}^^^TESTHOSP^MR||${o.family ?? d.family}^${o.given ?? d.given}^Q||${o.birthDate ?? d.birthDate}|${d.sex}|||${d.street}^^SPRINGFIELD^IL^62701||${d.phone}`,
    'PV1|1|I|4EAST^401^1^TESTHOSP||||1234^ATTEND^ANNA|||MED||||7|||1234^ATTEND^ANNA|IN||||||||||||||||||||||||||20261121080000+0000',
  ].join('\r') + '\r';
}

export interface OruOptions {
  controlId: string;
  mrn: string;
  /** OBX-8 abnormal flag: HH/LL for critical (stat), H/L for abnormal (urgent), N or empty for normal. */
  flag?: string;
  value?: string;
  sendingApplication?: string;
  family?: string;
  given?: string;
  birthDate?: string;
  personKey?: string;
}

export function oruMessage(o: OruOptions): string {
  const d = demographicsFor(o.personKey ?? o.mrn);
  return [
    `MSH|^~\\&|${o.sendingApplication ?? 'TESTLAB'}|TESTHOSP|CLINMESH|CLINMESH|20261121083000+0000||ORU^R01^ORU_R01|${o.controlId}|P|2.5.1`,
    `PID|1||${o.mrn}^^^TESTHOSP^MR||${o.family ?? d.family}^${o.given ?? d.given}^Q||${o.birthDate ?? d.birthDate}|${d.sex}`,
    'OBR|1|ORD123|FIL456|2345-7^Glucose^LN|||20261121070000+0000',
    `OBX|1|NM|2345-7^Glucose^LN||${o.value ?? '650'}|mg/dL|70-99|${o.flag ?? 'N'}|||F|||20261121075500+0000`,
  ].join('\r') + '\r';
}

/** An HL7 batch file (BHS…BTS) of the given messages. */
export function hl7Batch(messages: string[], batchControlId = 'B1'): string {
  return `BHS|^~\\&|TESTEHR|TESTHOSP|CLINMESH|CLINMESH|20261121083000+0000||||${batchControlId}\r${messages.join('')}BTS|${messages.length}\r`;
}
