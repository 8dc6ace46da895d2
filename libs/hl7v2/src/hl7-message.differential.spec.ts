import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { parseHl7Message, unescapeHl7 } from './index';

/**
 * Differential test against @medplum/core 4.1.6 `Hl7Message.parse`.
 * Raw structure (every field, repetition, component and subcomponent text as
 * written) must be identical. Values differ only in the documented ways
 * (README "Differences from @medplum/core"):
 *  D1 medplum does not unescape: `\T\` stays `\T\`, ours reads `&`.
 *  D2 medplum's component value includes its subcomponents (`a&b`), ours is
 *     the first subcomponent (`a`), with `.raw` for the whole text.
 *  D3 medplum throws "Invalid HL7 message" on a leading UTF-8 BOM; we skip it.
 *  D4 medplum turns a trailing terminator into an extra segment named "".
 */
const FIXTURES = '/work/shared/fixtures/hl7v2';
const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.hl7')).sort();

describe('differential vs @medplum/core Hl7Message.parse', () => {
  const seen = { D1: 0, D2: 0, D3: 0, D4: 0, comparedValues: 0 };

  test(`all ${files.length} fixtures: identical structure, values differ only as documented`, () => {
    for (const f of files) {
      const bytes = readFileSync(join(FIXTURES, f));
      let text = bytes.toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) {
        assert.throws(() => MedplumMessage.parse(text), /Invalid HL7 message/, `${f}: D3`);
        seen.D3++;
        text = text.slice(1);
      }
      const theirs = MedplumMessage.parse(text);
      const ours = parseHl7Message(bytes);
      let segs = theirs.segments;
      if (segs.length && segs[segs.length - 1].name === '') {
        seen.D4++;
        segs = segs.slice(0, -1);
      }
      assert.equal(segs.length, ours.segments().length, `${f}: segment count`);
      segs.forEach((ms, i) => {
        const os = ours.segments()[i];
        assert.equal(os.id, ms.name, `${f}: segment ${i}`);
        const fieldMax = Math.max(ms.name === 'MSH' ? ms.fields.length : ms.fields.length - 1, os.fieldCount);
        for (let n = 1; n <= fieldMax; n++) {
          const where = `${f} ${ms.name}(${os.occurrence})-${n}`;
          const mf = ms.getField(n);
          const of = os.field(n);
          assert.equal(of.raw, mf?.toString() ?? '', `${where}: field raw`);
          if (ms.name === 'MSH' && n <= 2) {
            assert.equal(of.value, mf.toString(), `${where}: MSH-1/2 literal`);
            continue;
          }
          for (let r = 0; r < (mf?.components.length ?? 0); r++) {
            const comps = mf.components[r];
            for (let c = 1; c <= comps.length; c++) {
              const theirValue = ms.getComponent(n, c, undefined, r);
              const oc = of.repetition(r + 1).component(c);
              assert.equal(oc.raw, theirValue, `${where}[${r + 1}].${c}: component raw`);
              // Subcomponents: medplum's index is 0-based.
              oc.subcomponents.forEach((sub, s) => assert.equal(sub.raw, ms.getComponent(n, c, s, r), `${where}[${r + 1}].${c}.${s + 1}: subcomponent raw`));
              seen.comparedValues++;
              const ourValue = oc.value ?? '';
              if (ourValue === theirValue) continue;
              const first = theirValue.split(ours.delimiters.subcomponent)[0];
              if (theirValue.includes(ours.delimiters.subcomponent)) {
                assert.equal(ourValue, unescapeHl7(first, ours.delimiters), `${where}: D2`);
                seen.D2++;
              } else {
                assert.ok(theirValue.includes(ours.delimiters.escape), `${where}: undocumented difference ${JSON.stringify([ourValue, theirValue])}`);
                assert.equal(ourValue, unescapeHl7(theirValue, ours.delimiters), `${where}: D1`);
                seen.D1++;
              }
            }
          }
        }
      });
    }
    // Every documented difference actually occurs in the corpus (so the
    // README list is neither stale nor hypothetical).
    assert.ok(seen.D1 > 0 && seen.D2 > 0 && seen.D3 > 0 && seen.D4 > 0, JSON.stringify(seen));
    assert.ok(seen.comparedValues > 5000, JSON.stringify(seen));
    if (process.env.HL7V2_DIFF_STATS) console.log(JSON.stringify(seen));
  });

  test('validation differences on synthetic input (D5): medplum accepts what we reject', () => {
    for (const bad of ['MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|9.9\r', 'MSH|^~\\&|A|B|C|D|2024||ADT^A01||P|2.5\r', 'MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\rnot a segment\r']) {
      assert.doesNotThrow(() => MedplumMessage.parse(bad));
      assert.throws(() => parseHl7Message(bad), { name: 'Hl7ParseError' });
    }
  });
});
