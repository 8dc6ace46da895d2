/**
 * The separators a message declares in MSH-1 / MSH-2. `truncation` is the
 * optional fifth encoding character introduced in v2.7 (`^~\&#`).
 */
export interface Hl7Delimiters {
  readonly field: string;
  readonly component: string;
  readonly repetition: string;
  readonly escape: string;
  readonly subcomponent: string;
  readonly truncation?: string;
}

/** `|^~\&` — what nearly every sender uses and what the builder defaults to. */
export const DEFAULT_HL7_DELIMITERS: Hl7Delimiters = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
});

/** MSH-2 text for a set of delimiters. */
export function encodingCharactersOf(d: Hl7Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + (d.truncation ?? '');
}
