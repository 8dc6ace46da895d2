import type { UnitOfWork } from '@clinmesh/event-runtime';
import { Task, TaskHistoryEntry } from '../domain/task';
import { TaskStore } from '../domain/task.ports';

/** In-memory stand-in for the task tables: unit test of the use cases, no broker or database. */
export class MemoryTasks implements TaskStore {
  readonly rows = new Map<string, Task>();
  readonly history: TaskHistoryEntry[] = [];
  readonly links = new Map<string, string>();
  async insertIfAbsent(t: Task) {
    if ([...this.rows.values()].some((r) => r.triggerKey === t.triggerKey)) return false;
    this.rows.set(t.taskId, { ...t });
    return true;
  }
  async get(id: string) { return this.rows.get(id) ?? null; }
  async byTriggerKey(key: string) { return [...this.rows.values()].find((r) => r.triggerKey === key) ?? null; }
  async latestForCanonical(workflow: string, canonicalId: string, epid: string) {
    return [...this.rows.values()].filter((r) => r.workflow === workflow && r.canonicalId === canonicalId && r.epid === epid).at(-1) ?? null;
  }
  async update(t: Task, expected: number) {
    if (this.rows.get(t.taskId)?.version !== expected) return false;
    this.rows.set(t.taskId, { ...t });
    return true;
  }
  async appendHistory(h: TaskHistoryEntry) { this.history.push(h); }
  async linkEvent(eventId: string, taskId: string) { this.links.set(eventId, taskId); }
  async taskOfEvent(eventId: string) { return this.rows.get(this.links.get(eventId) ?? '') ?? null; }
  async openTasksOfPatient(epid: string) { return [...this.rows.values()].filter((r) => r.epid === epid && !['completed', 'cancelled'].includes(r.fhirStatus)); }
  async tasksMovedByMerge(survivor: string, away: string) { return [...this.rows.values()].filter((r) => r.epid === survivor && r.mergedFromEpid === away); }
  async claimDueTimer() { return null; }
}


/**
 * A transaction for unit tests of the use cases: no SQL (the store is MemoryTasks); `afterCommit`
 * callbacks run on `commit()` only, as the runtime runs them once the database transaction committed.
 */
export function memoryTransaction(): { uow: UnitOfWork; commit(): void } {
  const committed: Array<() => void> = [];
  const noSql = () => Promise.reject(new Error('no SQL in a use-case unit test'));
  return {
    uow: {
      manager: undefined as never, query: noSql, execute: noSql, afterCommit: (callback) => void committed.push(callback),
      deferWrite: () => { throw new Error('no SQL in a use-case unit test'); },
    },
    commit: () => committed.splice(0).forEach((callback) => callback()),
  };
}
