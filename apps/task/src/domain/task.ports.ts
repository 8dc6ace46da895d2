import { Tier } from '@clinmesh/topology';
import { Task, TaskHistoryEntry } from './task';

/** The task tables, inside one unit of work (consumer chunk, HTTP request or timer). */
export interface TaskStore {
  /** Inserts unless a task with the same trigger key exists; whether it was inserted. */
  insertIfAbsent(task: Task): Promise<boolean>;
  get(taskId: string): Promise<Task | null>;
  byTriggerKey(triggerKey: string): Promise<Task | null>;
  /** The newest task of a workflow for a patient's canonical record (a correction finds it). */
  latestForCanonical(workflow: string, canonicalId: string, epid: string): Promise<Task | null>;
  /** Writes `task` (version = expectedVersion + 1) only if the stored version is still `expectedVersion`. */
  update(task: Task, expectedVersion: number): Promise<boolean>;
  appendHistory(entry: TaskHistoryEntry): Promise<void>;
  /** Remembers that an event (a routed copy, an emitted task event) belongs to a task. */
  linkEvent(eventId: string, taskId: string): Promise<void>;
  taskOfEvent(eventId: string): Promise<Task | null>;
  openTasksOfPatient(epid: string): Promise<Task[]>;
  tasksMovedByMerge(survivor: string, mergedAway: string): Promise<Task[]>;
  /** Locks the task if its timer for `rung` is still due (FOR UPDATE SKIP LOCKED): null when another worker has it or it changed. */
  claimDueTimer(taskId: string, rung: number, now: number): Promise<Task | null>;
}

/** A (workflow, canonical record, patient) triple: a correction amends the newest task of it. */
export interface CanonicalRef {
  workflow: string;
  canonicalId: string;
  epid: string;
}

/**
 * What a chunk of routed events will read from the task tables, so a chunk store can read it in
 * one statement before the handlers run: the tasks of every trigger key, and the newest task of
 * every triple a correction in the chunk may amend.
 */
export interface RoutedChunkNeeds {
  triggerKeys: string[];
  canonicals: CanonicalRef[];
}

export interface DueTimer {
  taskId: string;
  rung: number;
  correlationId: string;
  tier: Tier;
  dueAt: number;
  nextTimerAt: number;
}

export interface TaskQuery {
  status?: string[];
  state?: string;
  workflow?: string;
  tier?: Tier;
  owner?: string;
  role?: string;
  epid?: string;
  correlationId?: string;
  dueBefore?: number;
  breached?: boolean;
  cursor?: { createdAt: number; taskId: string };
  limit: number;
}

/** Reads outside event transactions (worklist, timers' due index). */
export interface TaskReader {
  list(query: TaskQuery): Promise<Task[]>;
  get(taskId: string): Promise<Task | null>;
  /** The task and its history as of one moment (null when there is no such task). */
  withHistory(taskId: string): Promise<{ task: Task; history: TaskHistoryEntry[] } | null>;
  dueTimers(now: number, limit: number): Promise<DueTimer[]>;
  /** Open tasks by workflow, tier and age bucket. */
  backlogByAge(now: number): Promise<Array<{ workflow: string; tier: string; age: string; n: number }>>;
}
