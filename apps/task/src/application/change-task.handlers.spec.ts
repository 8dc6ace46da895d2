import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventOrigin, EventRuntime, OutgoingEvent, eventContext } from '@clinmesh/event-runtime';
import { ClinmeshError } from '@clinmesh/errors';
import type { TaskEvent } from '@clinmesh/schemas';
import { BUILT_IN_CALENDAR, BUILT_IN_WORKFLOWS } from '../config/built-in-workflows';
import { loadWorkflowData } from '../config/task.config';
import { SlaPolicy } from '../domain/sla/sla';
import { Task } from '../domain/task';
import { TaskReader } from '../domain/task.ports';
import { NO_OBSERVER, TaskObserver } from './task-observer';
import { TaskLifecycle } from './task-lifecycle';
import { AcknowledgeTaskHandler, RecordFeedbackHandler, TransitionTaskHandler } from './change-task.handlers';
import { MemoryTasks, memoryTransaction } from './memory-tasks.testing';

const { catalog, calendar } = loadWorkflowData(BUILT_IN_WORKFLOWS, BUILT_IN_CALENDAR);
const NOW = Date.UTC(2026, 10, 21, 8, 10);

function setup() {
  const store = new MemoryTasks();
  const emitted: OutgoingEvent[] = [];
  const observed: string[] = [];
  const observer: TaskObserver = { ...NO_OBSERVER, acknowledged: (t, s) => observed.push(`ack:${t.workflow}:${s}`), refused: (c) => observed.push(`refused:${c}`) };
  const lifecycle = new TaskLifecycle(catalog, new SlaPolicy(calendar), observer, () => NOW);
  // The runtime's transaction: effects into the in-memory store, events into `emitted` (what the outbox would get).
  const runtime = {
    inTransaction: async (origin: EventOrigin, work: (ctx: ReturnType<typeof eventContext>) => Promise<unknown>) => {
      const tx = memoryTransaction();
      const result = await work(eventContext(tx.uow, origin, emitted));
      tx.commit();
      return result;
    },
  } as unknown as EventRuntime;
  const reader = { get: (id: string) => store.get(id) } as unknown as TaskReader;
  const def = catalog.get('critical-result-review')!;
  const task: Task = lifecycle.newTask(def, {
    taskId: 'T1', tier: 'stat', epid: 'EP1', correlationId: 'c1', sourceEventId: 'r1', triggerKey: 'k1', title: 'Critical result communication: ORU^R01', messageType: 'ORU^R01',
    resourceType: 'Observation', canonicalId: 'obs-1', audiences: ['care-team'], finding: 'Potassium (LOINC 2823-3): 6.9 mmol/L [HH]', identifiedAt: NOW - 600_000,
    communicatedBy: 'clinmesh for LAB', details: {},
  }, NOW - 300_000);
  store.rows.set(task.taskId, task);
  const stores = () => store;
  return {
    store, emitted, observed,
    transition: new TransitionTaskHandler(lifecycle, runtime, reader, stores),
    acknowledge: new AcknowledgeTaskHandler(lifecycle, runtime, reader, stores),
    feedback: new RecordFeedbackHandler(lifecycle, runtime, reader, stores),
  };
}
const actor = (subject: string) => ({ subject, roles: null });
async function refused(p: Promise<unknown>): Promise<ClinmeshError> {
  try { await p; } catch (e) { return e as ClinmeshError; }
  assert.fail('expected a refusal');
}

describe('task changes through the API handlers', () => {
  it('If-Match must match: a stale version is a 412 and nothing is written', async () => {
    const s = setup();
    const e = await refused(s.transition.handle({ taskId: 'T1', ifMatch: 7, actor: actor('dr-a'), to: 'claimed', fields: {} }));
    assert.deepEqual([e.code, e.status, e.details?.currentVersion], ['TASK.VERSION_MISMATCH', 412, 1]);
    assert.equal(s.emitted.length, 0);
    assert.ok(s.observed.includes('refused:TASK.VERSION_MISMATCH'), 'refusals are counted');
  });

  it('acknowledgement stores the six facts, stops the SLA clock and publishes ACKNOWLEDGED', async () => {
    const s = setup();
    const claimed = await s.transition.handle({ taskId: 'T1', ifMatch: 1, actor: actor('dr-a'), to: 'claimed', fields: {} });
    const acked = await s.acknowledge.handle({ taskId: 'T1', ifMatch: claimed.version, actor: actor('dr-a'), method: 'phone', readBack: true });
    assert.deepEqual(acked.acknowledgement, {
      finding: 'Potassium (LOINC 2823-3): 6.9 mmol/L [HH]', identifiedAt: NOW - 600_000, communicatedBy: 'clinmesh for LAB', receivedBy: 'dr-a', receivedAt: NOW, method: 'phone', readBack: true,
    });
    assert.deepEqual([acked.state, acked.fhirStatus, acked.nextTimerAt], ['acknowledged', 'in-progress', null]);
    const event = s.emitted.at(-1)!.value as TaskEvent;
    assert.deepEqual([event.change, event.acknowledgement?.method, event.version, event.transition], ['ACKNOWLEDGED', 'phone', 3, 'acknowledge']);
    assert.deepEqual(s.observed.filter((o) => o.startsWith('ack:')), ['ack:critical-result-review:600']);
    const again = await refused(s.acknowledge.handle({ taskId: 'T1', ifMatch: 3, actor: actor('dr-a'), method: 'phone' }));
    assert.equal(again.status, 409);
  });

  it('clinician feedback is published for threshold tuning: defer re-arms the timer, escalate fires now, dismiss cancels', async () => {
    const s = setup();
    const deferred = await s.feedback.handle({ taskId: 'T1', ifMatch: 1, actor: actor('dr-a'), action: 'defer', reason: 'repeat sample drawn', deferUntil: NOW + 600_000 });
    assert.equal(deferred.nextTimerAt, NOW + 600_000);
    const escalated = await s.feedback.handle({ taskId: 'T1', ifMatch: 2, actor: actor('dr-a'), action: 'escalate', reason: 'needs nephrology' });
    assert.equal(escalated.nextTimerAt, NOW);
    const noReason = await refused(s.feedback.handle({ taskId: 'T1', ifMatch: 3, actor: actor('dr-a'), action: 'dismiss', reason: '' }));
    assert.deepEqual([noReason.status, noReason.details?.field], [422, 'reason']);
    const dismissed = await s.feedback.handle({ taskId: 'T1', ifMatch: 3, actor: actor('dr-a'), action: 'dismiss', reason: 'haemolysed sample' });
    assert.equal(dismissed.fhirStatus, 'cancelled');
    const events = s.emitted.map((e) => e.value as TaskEvent);
    assert.deepEqual(events.map((e) => [e.change, e.feedback?.action, e.feedback?.reason]), [
      ['FEEDBACK', 'DEFER', 'repeat sample drawn'], ['FEEDBACK', 'ESCALATE', 'needs nephrology'], ['CANCELLED', 'DISMISS', 'haemolysed sample'],
    ]);
    const closed = await refused(s.feedback.handle({ taskId: 'T1', ifMatch: 4, actor: actor('dr-a'), action: 'acknowledge', reason: 'x' }));
    assert.equal(closed.status, 409);
  });
});
