import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventContext, InboundEvent, OutgoingEvent, eventContext, originOf } from '@clinmesh/event-runtime';
import type { RoutedEvent, TaskEvent } from '@clinmesh/schemas';
import { BUILT_IN_CALENDAR, BUILT_IN_WORKFLOWS } from '../config/built-in-workflows';
import { loadWorkflowData } from '../config/task.config';
import { SlaPolicy } from '../domain/sla/sla';
import { MemoryTasks, memoryTransaction } from './memory-tasks.testing';
import { NO_OBSERVER } from './task-observer';
import { TaskLifecycle } from './task-lifecycle';
import { OpenRoutedTasksHandler } from './open-routed-tasks.handler';
import { IdentityEventsHandler } from './work-queue.handlers';

const { catalog, calendar } = loadWorkflowData(BUILT_IN_WORKFLOWS, BUILT_IN_CALENDAR);
const lifecycle = new TaskLifecycle(catalog, new SlaPolicy(calendar), NO_OBSERVER, () => Date.UTC(2026, 10, 21, 8, 1));
const receivedAt = Date.UTC(2026, 10, 21, 8, 0);

function routed(o: { eventId: string; audience: string; correlationId?: string; correction?: boolean; value?: number; supersedes?: string }): InboundEvent<RoutedEvent> {
  const correlationId = o.correlationId ?? 'corr-1';
  const observation = {
    id: 'obs-k-1', changeType: 'CREATE', correction: o.correction ?? false, status: o.correction ? 'corrected' : 'final',
    code: { codings: [{ system: 'http://loinc.org', code: '2823-3', display: 'Potassium' }], text: 'Potassium' },
    valueQuantity: { value: o.value ?? 6.9, unit: 'mmol/L' }, interpretation: [{ code: 'HH' }], issued: { instant: receivedAt - 60_000 },
  };
  return {
    eventId: o.eventId, correlationId, tier: 'stat', topic: 'clinical.routed.stat', partition: 0, offset: 1, key: 'EP1', headers: {}, schemaId: 1,
    value: {
      eventId: o.eventId, correlationId, causationId: 'canon-1', epid: 'EP1', tier: 'stat', audience: o.audience,
      decision: { policyVersion: 'v1', ruleIds: ['r'], workflows: ['critical-result-review'], audiences: ['care-team', 'critical-result-oncall'], originalTier: 'stat', explanation: 'critical' },
      canonical: {
        eventId: 'canon-1', correlationId, causationId: 'id-1', epid: 'EP1', tier: 'stat', changeType: 'CREATE', occurredAt: null, supersedesEventId: o.supersedes ?? null,
        recordedAt: receivedAt, receivedAt, source: { system: 'LAB', facility: 'H', channel: 'MLLP' }, resourceType: 'Observation', canonicalId: 'obs-k-1', document: '{}',
        provenance: { sourceSystem: 'LAB', messageId: 'M1', sourceFormat: 'HL7V2', sourceMessageType: 'ORU^R01', mappingVersion: 'x', sourceFields: [] },
        records: { observations: [observation] },
      },
    } as unknown as RoutedEvent,
  };
}

/** Handles `event` in one transaction, committed unless `commit` is false (rolled back: nothing after it runs). */
async function run(handler: { handle(e: InboundEvent<never>, ctx: EventContext): Promise<void> }, event: InboundEvent<unknown>, emitted: OutgoingEvent[], commit = true) {
  const tx = memoryTransaction();
  await handler.handle(event as InboundEvent<never>, eventContext(tx.uow, originOf(event), emitted));
  if (commit) tx.commit();
}
const values = (emitted: OutgoingEvent[]) => emitted.map((e) => e.value as TaskEvent);

describe('tasks from routed events', () => {
  it('one task per canonical record and workflow, whatever the number of audience copies; armed at the SLA', async () => {
    const store = new MemoryTasks();
    const handler = new OpenRoutedTasksHandler(lifecycle, () => store);
    const emitted: OutgoingEvent[] = [];
    await run(handler, routed({ eventId: 'routed-care-team', audience: 'care-team' }), emitted);
    await run(handler, routed({ eventId: 'routed-oncall', audience: 'critical-result-oncall' }), emitted);
    assert.equal(store.rows.size, 1);
    const [task] = store.rows.values();
    assert.deepEqual([task.workflow, task.state, task.fhirStatus, task.businessStatus], ['critical-result-review', 'requested', 'requested', 'awaiting-acknowledgement']);
    assert.equal(task.dueAt, receivedAt + 30 * 60_000);
    assert.equal(task.nextTimerAt, task.dueAt);
    assert.match(task.finding!, /Potassium \(LOINC 2823-3\): 6\.9 mmol\/L \[HH\]/);
    assert.equal(task.identifiedAt, receivedAt - 60_000);
    assert.deepEqual(values(emitted).map((e) => e.change), ['CREATED']);
    assert.equal(emitted[0].topic, 'clinical.tasks.stat');
    assert.equal(emitted[0].key, 'EP1');
    assert.equal(store.links.get('routed-oncall'), task.taskId, 'every copy is linked (a dead delivery of any of them is a failed handoff)');
  });

  it('the dashboards count a task created only once its transaction commits, never one rolled back', async () => {
    const created: string[] = [];
    const observing = new TaskLifecycle(catalog, new SlaPolicy(calendar), { ...NO_OBSERVER, created: (t) => created.push(t.taskId) }, () => Date.UTC(2026, 10, 21, 8, 1));
    const rolledBack = new MemoryTasks();
    await run(new OpenRoutedTasksHandler(observing, () => rolledBack), routed({ eventId: 'routed-rolled-back', audience: 'care-team' }), [], false);
    assert.equal(rolledBack.rows.size, 1, 'the handler did create the task in its transaction');
    assert.deepEqual(created, [], 'a rolled-back transaction is not counted');
    const store = new MemoryTasks();
    await run(new OpenRoutedTasksHandler(observing, () => store), routed({ eventId: 'routed-committed', audience: 'care-team' }), []);
    assert.deepEqual(created, [[...store.rows.keys()][0]]);
  });

  it('a replay or a terminology re-emission (supersedesEventId) creates nothing new', async () => {
    const store = new MemoryTasks();
    const handler = new OpenRoutedTasksHandler(lifecycle, () => store);
    const emitted: OutgoingEvent[] = [];
    await run(handler, routed({ eventId: 'r1', audience: 'care-team' }), emitted);
    await run(handler, routed({ eventId: 'r1', audience: 'care-team' }), emitted);
    await run(handler, routed({ eventId: 'r1-remapped', audience: 'care-team', supersedes: 'canon-1' }), emitted);
    assert.equal(store.rows.size, 1);
    assert.equal(emitted.length, 1);
  });

  it('a corrected result updates the open task and records the change: never a second task', async () => {
    const store = new MemoryTasks();
    const handler = new OpenRoutedTasksHandler(lifecycle, () => store);
    const emitted: OutgoingEvent[] = [];
    await run(handler, routed({ eventId: 'r1', audience: 'care-team' }), emitted);
    await run(handler, routed({ eventId: 'r2', audience: 'care-team', correlationId: 'corr-2', correction: true, value: 7.4 }), emitted);
    assert.equal(store.rows.size, 1);
    const [task] = store.rows.values();
    assert.equal(task.version, 2);
    assert.match(task.finding!, /7\.4/);
    const change = values(emitted)[1];
    assert.deepEqual([change.change, change.correction, change.version], ['UPDATED', true, 2]);
    const h = store.history.at(-1)!;
    assert.equal(h.action, 'correct');
    assert.match(String(h.details.previousFinding), /6\.9/);
  });

  it('a correction after the task was closed opens a new task naming the closed one: the loop is closed again on the corrected value', async () => {
    const store = new MemoryTasks();
    const handler = new OpenRoutedTasksHandler(lifecycle, () => store);
    const emitted: OutgoingEvent[] = [];
    await run(handler, routed({ eventId: 'r1', audience: 'care-team' }), emitted);
    const [original] = store.rows.values();
    const def = lifecycle.workflow(original);
    const terminal = Object.entries(def.states).find(([, st]) => st.terminal && st.fhirStatus === 'completed')![0];
    store.rows.set(original.taskId, { ...original, state: terminal, fhirStatus: 'completed', completedAt: receivedAt + 5 * 60_000 });
    await run(handler, routed({ eventId: 'r2', audience: 'care-team', correlationId: 'corr-2', correction: true, value: 7.4 }), emitted);
    assert.equal(store.rows.size, 2);
    const closed = store.rows.get(original.taskId)!;
    assert.equal(closed.version, original.version, 'the closed task is not changed');
    const fresh = [...store.rows.values()].find((t) => t.taskId !== original.taskId)!;
    assert.deepEqual([fresh.state, fresh.details.correctionOf, fresh.details.correctedBy], [def.initial, original.taskId, 'corr-2']);
    assert.match(fresh.finding!, /7\.4/);
    assert.match(String(fresh.details.previousFinding), /6\.9/);
    assert.deepEqual(values(emitted).map((e) => e.change), ['CREATED', 'CREATED']);
    assert.match(String(store.history.at(-1)!.reason), new RegExp(`after task ${original.taskId} was closed`));
  });
});

describe('merges', () => {
  it('open tasks follow the surviving EPID, an unmerge restores them', async () => {
    const store = new MemoryTasks();
    const emitted: OutgoingEvent[] = [];
    await run(new OpenRoutedTasksHandler(lifecycle, () => store), routed({ eventId: 'r1', audience: 'care-team' }), emitted);
    const identity = new IdentityEventsHandler(lifecycle, () => store);
    const event = (type: string, id: string) => ({
      eventId: id, correlationId: 'c', tier: 'routine', topic: 'clinical.identity.events', partition: 0, offset: 1, key: 'EP9', headers: {}, schemaId: 1,
      value: { eventId: id, correlationId: 'c', type, epid: 'EP9', otherEpid: 'EP1', recordKey: 'k', method: 'ADT^A40', score: null, reviewItemId: null, resolution: null, at: 0 },
    }) as InboundEvent<unknown>;
    await run(identity, event('PERSONS_MERGED', 'm1'), emitted);
    const [task] = store.rows.values();
    assert.deepEqual([store.rows.get(task.taskId)!.epid, store.rows.get(task.taskId)!.mergedFromEpid], ['EP9', 'EP1']);
    const moved = values(emitted).at(-1)!;
    assert.deepEqual([moved.epid, moved.previousEpid], ['EP9', 'EP1']);
    assert.equal(emitted.at(-1)!.key, 'EP9');
    await run(identity, event('PERSONS_UNMERGED', 'u1'), emitted);
    assert.deepEqual([store.rows.get(task.taskId)!.epid, store.rows.get(task.taskId)!.mergedFromEpid], ['EP1', null]);
  });
});
