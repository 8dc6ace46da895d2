import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { zoneOffsetAt } from './clinical-time';

/** The offset read straight from Intl, with no memo: the reference. */
function reference(timeZone: string, localUtcMs: number): string {
  const at = (utcMs: number): number => {
    const part = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(new Date(utcMs)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(part);
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
  };
  const second = at(localUtcMs - at(localUtcMs) * 60000);
  const abs = Math.abs(second);
  return `${second < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

describe('zoneOffsetAt (memoised per zone and 15-minute slot)', () => {
  it('agrees with Intl read directly around DST transitions, half- and quarter-hour zones, and historical local mean time', () => {
    const zones = ['America/Chicago', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'Africa/Casablanca', 'Pacific/Chatham'];
    const starts = [Date.UTC(2026, 2, 8, 0), Date.UTC(2026, 10, 1, 0), Date.UTC(2026, 3, 5, 0), Date.UTC(2026, 9, 4, 0), Date.UTC(1883, 10, 18, 10), Date.UTC(1920, 0, 1, 0)];
    let compared = 0;
    for (const zone of zones) {
      for (const start of starts) {
        // Every 7 minutes over a day and a half (so every slot is hit at several offsets within it), twice: memo filled, then used.
        for (let pass = 0; pass < 2; pass++) {
          for (let t = start; t < start + 36 * 3600_000; t += 7 * 60_000) {
            assert.equal(zoneOffsetAt(zone, t), reference(zone, t), `${zone} at ${new Date(t).toISOString()} (pass ${pass})`);
            compared++;
          }
        }
      }
    }
    assert.ok(compared > 10_000);
  });

  it('keeps the DST rule of the sender zone: a local time just before and after the spring gap', () => {
    // 2026-03-08 01:30 and 03:30 local in Chicago (the clocks jump 02:00 → 03:00).
    assert.equal(zoneOffsetAt('America/Chicago', Date.UTC(2026, 2, 8, 1, 30)), '-06:00');
    assert.equal(zoneOffsetAt('America/Chicago', Date.UTC(2026, 2, 8, 3, 30)), '-05:00');
  });
});
