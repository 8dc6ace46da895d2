import { Hl7Message } from '@clinmesh/hl7v2';

/** What ingest needs to know about an HL7 v2 message, read once from the parsed message. */
export interface Hl7IntakeFacts {
  sendingApplication: string;
  sendingFacility: string;
  messageType: string;
  controlId: string;
  version: string;
  patientIdentifiers: Array<{ system: string; value: string; type: string | null }>;
  abnormalFlags: string[];
}

export function readHl7IntakeFacts(message: Hl7Message): Hl7IntakeFacts {
  const h = message.header;
  const pid = message.segment('PID');
  const identifiers: Hl7IntakeFacts['patientIdentifiers'] = [];
  if (pid) {
    for (const rep of pid.field(3).repetitions) {
      const value = rep.component(1).value;
      if (!value || value === '""') continue;
      identifiers.push({ value, system: rep.component(4).value ?? '', type: rep.component(5).value ?? null });
    }
    // HL7 2.1–2.3 carried the MRN in PID-2 (external id) when PID-3 is empty.
    const external = pid.field(2).value;
    if (!identifiers.length && external) identifiers.push({ value: external, system: '', type: 'MR' });
  }
  return {
    sendingApplication: h.sendingApplication ?? '',
    sendingFacility: h.sendingFacility ?? '',
    messageType: h.triggerEvent ? `${h.messageType}^${h.triggerEvent}` : h.messageType,
    controlId: h.controlId,
    version: h.version,
    patientIdentifiers: identifiers,
    abnormalFlags: message.segments('OBX').map((s) => s.field(8).value ?? '').filter(Boolean),
  };
}

/** The identifier that keys the patient's events: the first MR, else the first one. */
export function primaryIdentifier(ids: Hl7IntakeFacts['patientIdentifiers']): { system: string; value: string } | undefined {
  return ids.find((i) => i.type === 'MR') ?? ids[0];
}
