import FIELD_NAMES from './hl7-field-names.json';

export interface Hl7FieldView {
  /** e.g. `PID-5` */
  ref: string;
  /** HL7 v2.5.1 field name, when the segment is in the dictionary. */
  name: string | null;
  value: string;
  /** A patient identifier / demographic the console masks by default. */
  sensitive: boolean;
}

export interface Hl7SegmentView {
  segment: string;
  /** 1-based occurrence of the segment in the message. */
  index: number;
  fields: Hl7FieldView[];
}

const NAMES = FIELD_NAMES as Record<string, string[]>;

/** Fields that identify a patient or a relative (masked unless revealed with a purpose of use). */
const SENSITIVE = new Set([
  'PID-2', 'PID-3', 'PID-4', 'PID-5', 'PID-6', 'PID-7', 'PID-9', 'PID-11', 'PID-13', 'PID-14', 'PID-18', 'PID-19', 'PID-20', 'PID-21', 'PID-23', 'PID-29',
  'MRG-1', 'MRG-2', 'MRG-3', 'MRG-4', 'MRG-7', 'NK1-2', 'NK1-4', 'NK1-5', 'NK1-6', 'PV1-19', 'PD1-4',
]);

/**
 * Splits an ER7 message into named fields (PID-5 "Patient Name" ...). MSH-1
 * is the field separator itself, so MSH fields are numbered one higher than
 * their position after the split, as the standard numbers them.
 */
export function viewHl7(raw: string): Hl7SegmentView[] {
  const lines = raw.split(/\r\n|\r|\n/).filter((l) => l.trim().length > 0);
  const fieldSep = lines[0]?.startsWith('MSH') ? lines[0].charAt(3) || '|' : '|';
  const seen = new Map<string, number>();
  return lines.map((line) => {
    const parts = line.split(fieldSep);
    const segment = parts[0];
    const index = (seen.get(segment) ?? 0) + 1;
    seen.set(segment, index);
    const names = NAMES[segment] ?? [];
    const values = segment === 'MSH' ? [fieldSep, ...parts.slice(1)] : parts.slice(1);
    return {
      segment, index,
      fields: values.map((value, i) => {
        const ref = `${segment}-${i + 1}`;
        return { ref, name: names[i] ?? null, value, sensitive: SENSITIVE.has(ref) };
      }).filter((f) => f.value !== ''),
    };
  });
}

/** The raw message with the sensitive fields replaced (for the masked default view). */
export function maskHl7(raw: string): string {
  const lines = raw.split(/\r\n|\r|\n/);
  const fieldSep = lines[0]?.startsWith('MSH') ? lines[0].charAt(3) || '|' : '|';
  return lines.map((line) => {
    const parts = line.split(fieldSep);
    const segment = parts[0];
    if (segment === 'MSH') return line;
    return parts.map((p, i) => (i > 0 && p && SENSITIVE.has(`${segment}-${i}`) ? MASK : p)).join(fieldSep);
  }).join('\r');
}

export const MASK = '•••';
