import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILT_IN_CALENDAR, BUILT_IN_WORKFLOWS } from '../../config/built-in-workflows';
import { loadWorkflowData } from '../../config/task.config';
import { SlaPolicy } from './sla';
import { endOfDay, endOfShift, FacilityCalendar } from './facility-calendar';
import { parseDuration } from './duration';

const { catalog, calendar } = loadWorkflowData(BUILT_IN_WORKFLOWS, BUILT_IN_CALENDAR);
const critical = catalog.get('critical-result-review')!;
const review = catalog.get('result-review')!;

describe('SLAs and the facility calendar (America/Chicago, day 07–19, night 19–07)', () => {
  it('parses ISO 8601 durations', () => {
    assert.equal(parseDuration('PT30M'), 1_800_000);
    assert.equal(parseDuration('P1DT2H'), 93_600_000);
    assert.equal(parseDuration('PT0M'), 0);
    assert.equal(parseDuration('30m'), null);
    assert.equal(parseDuration('P'), null);
  });

  it('stat critical result: acknowledged within 30 minutes of receipt', () => {
    const from = Date.UTC(2026, 10, 21, 16, 0);
    assert.equal(new SlaPolicy(calendar).dueAt(critical, 'stat', from), from + 30 * 60_000);
  });

  it('urgent: within the shift (day shift ends 19:00 CST = 01:00Z; a night shift runs past midnight)', () => {
    const policy = new SlaPolicy(calendar);
    assert.equal(new Date(policy.dueAt(review, 'urgent', Date.UTC(2026, 10, 21, 16, 0))).toISOString(), '2026-11-22T01:00:00.000Z');
    assert.equal(new Date(policy.dueAt(review, 'urgent', Date.UTC(2026, 10, 22, 4, 0))).toISOString(), '2026-11-22T13:00:00.000Z', '22:00 CST → 07:00 CST next day');
    assert.equal(new Date(policy.dueAt(review, 'urgent', Date.UTC(2026, 10, 22, 11, 0))).toISOString(), '2026-11-22T13:00:00.000Z', '05:00 CST → 07:00 CST same day');
  });

  it('routine: the same (facility) day, DST-aware', () => {
    const policy = new SlaPolicy(calendar);
    assert.equal(new Date(policy.dueAt(review, 'routine', Date.UTC(2026, 10, 21, 16, 0))).toISOString(), '2026-11-22T05:59:00.000Z', '23:59 CST');
    assert.equal(new Date(endOfDay(calendar, Date.UTC(2026, 6, 1, 15, 0))).toISOString(), '2026-07-02T04:59:00.000Z', '23:59 CDT');
    assert.equal(new Date(endOfShift(calendar, Date.UTC(2026, 6, 1, 15, 0))).toISOString(), '2026-07-02T00:00:00.000Z', '19:00 CDT');
  });

  it('another facility calendar moves the same SLA', () => {
    const berlin: FacilityCalendar = { facility: 'b', timeZone: 'Europe/Berlin', shifts: [{ name: 'early', start: '06:00', end: '14:00' }, { name: 'late', start: '14:00', end: '22:00' }, { name: 'night', start: '22:00', end: '06:00' }], endOfDay: '20:00' };
    assert.equal(new Date(new SlaPolicy(berlin).dueAt(review, 'urgent', Date.UTC(2026, 10, 21, 12, 0))).toISOString(), '2026-11-21T13:00:00.000Z', '13:00 CET → 14:00 CET');
  });

  it('the escalation ladder fires at due, then 15 minutes later, then is exhausted; tests shorten it by configuration', () => {
    const due = Date.UTC(2026, 10, 21, 16, 30);
    const policy = new SlaPolicy(calendar);
    assert.deepEqual([0, 1, 2].map((r) => policy.rungAt(critical, due, r)), [due, due + 15 * 60_000, null]);
    const short = new SlaPolicy(calendar, { sla: { 'critical-result-review': { stat: 'PT2S' } }, escalation: { 'critical-result-review': ['PT0S', 'PT3S'] } });
    assert.equal(short.dueAt(critical, 'stat', 1000), 3000);
    assert.equal(short.rungAt(critical, 3000, 1), 6000);
  });

  it('end of day and end of shift across both DST changes, every 7 minutes, two zones interleaved, read twice: each is the wall time it should be (checked with a fresh formatter)', () => {
    const berlin: FacilityCalendar = { facility: 'b', timeZone: 'Europe/Berlin', shifts: [{ name: 'early', start: '06:30', end: '14:15' }, { name: 'late', start: '14:15', end: '22:45' }, { name: 'night', start: '22:45', end: '06:30' }], endOfDay: '20:05' };
    // An independent reading of local time: a new formatter for every call, nothing kept.
    const wall = (t: number, zone: string) => {
      const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(t));
      const v = (type: string) => parts.find((p) => p.type === type)!.value;
      return { date: `${v('year')}-${v('month')}-${v('day')}`, time: `${v('hour')}:${v('minute')}` };
    };
    const nextDate = (date: string) => new Date(Date.parse(`${date}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    let checked = 0;
    // Chicago's and Berlin's changes of 2026.
    for (const transition of [Date.UTC(2026, 2, 8, 8, 0), Date.UTC(2026, 10, 1, 7, 0), Date.UTC(2026, 2, 29, 1, 0), Date.UTC(2026, 9, 25, 1, 0)]) {
      for (let pass = 0; pass < 2; pass++) {
        for (let from = transition - 30 * 3_600_000 + 13_000; from < transition + 30 * 3_600_000; from += 7 * 60_000) {
          for (const cal of [calendar, berlin]) {
            const at = `${cal.timeZone} from ${new Date(from).toISOString()}`;
            const eod = endOfDay(cal, from);
            assert.equal(wall(eod, cal.timeZone).time, cal.endOfDay, `end of day, ${at}`);
            const today = wall(from, cal.timeZone);
            const expectedDate = today.time < cal.endOfDay ? today.date : nextDate(today.date);
            assert.equal(wall(eod, cal.timeZone).date, expectedDate, `end of day, ${at}`);
            const eos = endOfShift(cal, from);
            const running = cal.shifts.find((s) => (s.start < s.end ? today.time >= s.start && today.time < s.end : today.time >= s.start || today.time < s.end))!;
            assert.equal(wall(eos, cal.timeZone).time, running.end, `end of shift, ${at}: ${new Date(eos).toISOString()}`);
            assert.ok(eos > from && eos - from <= 24 * 3_600_000, `end of shift, ${at}`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 2000);
  });
});
