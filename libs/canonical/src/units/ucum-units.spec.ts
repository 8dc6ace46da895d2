import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { convertUcum, toUcum } from './ucum-units';

/** Everything written to stdout (console.log included) while `work` runs. */
function stdoutOf(work: () => void): string {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    work();
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('UCUM units', () => {
  it('takes UCUM codes and known aliases, and refuses what UCUM does not define', () => {
    assert.equal(toUcum('mg/dL'), 'mg/dL');
    assert.equal(toUcum('10*3/uL'), '10*3/uL');
    assert.equal(toUcum('mg//dL'), null);
    assert.equal(toUcum(''), null);
    assert.equal(convertUcum(180, 'mg/dL', 'g/L'), 1.8);
  });

  it('writes nothing to the log for a unit field holding something else: a shifted field can put a patient\'s name there', () => {
    // ucum-lhc console.logs the unit string it could not parse (blank spaces); that would be PHI in the service log.
    const out = stdoutOf(() => {
      assert.equal(toUcum('JANE Q PATIENTNAME'), null);
      assert.equal(toUcum('beats / min'), null);
      assert.equal(convertUcum(1, 'mg/dL', 'JANE Q PATIENTNAME'), null);
    });
    assert.equal(out, '');
  });
});
