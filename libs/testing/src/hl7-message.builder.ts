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
}

export function adtMessage(o: AdtOptions): string {
  const trigger = o.trigger ?? 'A01';
  return [
    `MSH|^~\\&|${o.sendingApplication ?? 'TESTEHR'}|${o.facility ?? 'TESTHOSP'}|CLINMESH|CLINMESH|20261121083000+0000||ADT^${trigger}^ADT_A01|${o.controlId}|P|2.5.1||||||UNICODE UTF-8`,
    `EVN|${trigger}|20261121083000+0000`,
    `PID|1||${o.mrn}^^^TESTHOSP^MR||${o.family ?? 'DOE'}^${o.given ?? 'JANE'}^Q||${o.birthDate ?? '19800101'}|F|||1 MAIN ST^^SPRINGFIELD^IL^62701||(217)555-0100`,
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
}

export function oruMessage(o: OruOptions): string {
  return [
    `MSH|^~\\&|${o.sendingApplication ?? 'TESTLAB'}|TESTHOSP|CLINMESH|CLINMESH|20261121083000+0000||ORU^R01^ORU_R01|${o.controlId}|P|2.5.1`,
    `PID|1||${o.mrn}^^^TESTHOSP^MR||DOE^JANE||19800101|F`,
    'OBR|1|ORD123|FIL456|2345-7^Glucose^LN|||20261121070000+0000',
    `OBX|1|NM|2345-7^Glucose^LN||${o.value ?? '650'}|mg/dL|70-99|${o.flag ?? 'N'}|||F|||20261121075500+0000`,
  ].join('\r') + '\r';
}

/** An HL7 batch file (BHS…BTS) of the given messages. */
export function hl7Batch(messages: string[], batchControlId = 'B1'): string {
  return `BHS|^~\\&|TESTEHR|TESTHOSP|CLINMESH|CLINMESH|20261121083000+0000||||${batchControlId}\r${messages.join('')}BTS|${messages.length}\r`;
}
