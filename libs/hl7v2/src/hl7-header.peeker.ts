import { UTF8_CHARSET } from './hl7-charset.decoder';
import type { Hl7AckOriginal } from './hl7-ack.builder';
import { Hl7Segment } from './hl7-message.model';
import { readDelimiters } from './hl7-message.parser';

const SCAN_LIMIT = 64 * 1024;

/**
 * Best-effort read of the MSH of input that may be broken, truncated or
 * oversized, so a NAK can still be addressed to the sender and echo its
 * control id. Looks only at the first 64 KiB, never throws, returns
 * `undefined` when no usable MSH is found.
 */
export function peekHl7Header(input: Buffer | string): (Hl7AckOriginal & { messageType?: string }) | undefined {
  try {
    const text = typeof input === 'string' ? input.slice(0, SCAN_LIMIT) : input.subarray(0, SCAN_LIMIT).toString('latin1');
    const at = text.indexOf('MSH');
    if (at < 0) return undefined;
    const rest = text.slice(at);
    const delimiters = readDelimiters(rest);
    let end = rest.search(/[\r\n]/);
    if (end < 0) end = rest.length;
    const msh = new Hl7Segment('MSH', rest.slice(0, end), { delimiters, charset: UTF8_CHARSET }, 0, 1);
    const hd = (n: number): Hl7AckOriginal['sendingApplication'] => {
      const f = msh.field(n).repetition(1);
      if (!f.present) return undefined;
      return { namespaceId: f.component(1).value, universalId: f.component(2).value, universalIdType: f.component(3).value };
    };
    return {
      delimiters,
      sendingApplication: hd(3),
      sendingFacility: hd(4),
      receivingApplication: hd(5),
      receivingFacility: hd(6),
      messageType: msh.value(9, 1, 1),
      triggerEvent: msh.value(9, 1, 2),
      controlId: msh.value(10),
      processingId: msh.value(11),
      version: msh.value(12),
      charset: msh.value(18),
    };
  } catch {
    return undefined;
  }
}
