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
});
