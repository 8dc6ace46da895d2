import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventContext, InboundEvent, OutgoingEvent, eventContext, originOf } from '@clinmesh/event-runtime';
import type { RoutedEvent } from '@clinmesh/schemas';
import { CreateTasksHandler } from './create-tasks.handler';
import { Task } from '../domain/task';
import { SLA_MS } from '../domain/task-sla';

/** In-memory stand-in for the task table: pure unit test of the use case, no broker or database. */
class MemoryTasks {
  readonly rows = new Map<string, Task>();
  async createIfAbsent(t: Task): Promise<boolean> {
    if (this.rows.has(t.taskId)) return false;
    this.rows.set(t.taskId, t);
    return true;
  }
}

function routed(workflows: string[]): InboundEvent<RoutedEvent> {
  const receivedAt = Date.UTC(2026, 10, 21, 8, 0, 0);
  return {
    eventId: 'routed-1', correlationId: 'corr-1', tier: 'stat', topic: 'clinical.routed.stat', partition: 0, offset: 1, key: 'EP1', headers: {}, schemaId: 1,
    value: {
      eventId: 'routed-1', correlationId: 'corr-1', causationId: 'canon-1', epid: 'EP1', tier: 'stat',
      decision: { policyVersion: 'v1', ruleIds: ['r'], workflows, audiences: ['care-team'], originalTier: 'stat', explanation: '' },
      canonical: {
        eventId: 'canon-1', correlationId: 'corr-1', causationId: 'id-1', epid: 'EP1', tier: 'stat', changeType: 'CREATE', occurredAt: null,
        recordedAt: receivedAt, receivedAt, source: { system: 'LAB', facility: 'H', channel: 'MLLP' }, resourceType: 'Observation', canonicalId: 'obs-1', document: '{}',
        provenance: { sourceSystem: 'LAB', messageId: 'M1', sourceFormat: 'HL7V2', sourceMessageType: 'ORU^R01', mappingVersion: 'x', sourceFields: [] },
      },
    } as RoutedEvent,
  };
}

function context(event: InboundEvent, emitted: unknown[]): EventContext {
  // The handler writes only through its repository port (in memory here), never through uow.
  return eventContext({} as never, originOf(event), emitted as OutgoingEvent[]);
}

describe('create tasks', () => {
  it('creates one task per workflow with an SLA by tier, and publishes a task event for each', async () => {
    const tasks = new MemoryTasks();
    const emitted: Array<{ topic: string; key: string; value: { change: string; taskId: string; dueAt: number } }> = [];
    const event = routed(['critical-result-review', 'result-review']);
    await new CreateTasksHandler(() => tasks).handle(event, context(event, emitted));
    assert.equal(tasks.rows.size, 2);
    assert.equal(emitted.length, 2);
    assert.ok(emitted.every((e) => e.topic === 'clinical.tasks.stat' && e.key === 'EP1' && e.value.change === 'CREATED'));
    const [first] = [...tasks.rows.values()];
    assert.equal(first.dueAt, event.value.canonical.receivedAt + SLA_MS.stat);
    assert.ok(!first.title.includes('EP1'), 'titles carry no patient data');
  });
  it('is idempotent: the same routed event again creates and publishes nothing new', async () => {
    const tasks = new MemoryTasks();
    const event = routed(['result-review']);
    const emitted: unknown[] = [];
    await new CreateTasksHandler(() => tasks).handle(event, context(event, emitted));
    await new CreateTasksHandler(() => tasks).handle(event, context(event, emitted));
    assert.equal(tasks.rows.size, 1);
    assert.equal(emitted.length, 1);
  });
});
