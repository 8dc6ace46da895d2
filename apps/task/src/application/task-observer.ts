import { Task } from '../domain/task';

/** What the dashboards measure (adapters/metrics implements it). */
export interface TaskObserver {
  created(task: Task): void;
  transitioned(task: Task, transition: string): void;
  acknowledged(task: Task, seconds: number): void;
  closed(task: Task, seconds: number): void;
  escalated(task: Task, rung: number, firstBreach: boolean, lagSeconds: number): void;
  failedHandoff(task: Task, cause: 'ladder-exhausted' | 'delivery-dead'): void;
  refused(code: string): void;
}

export const NO_OBSERVER: TaskObserver = {
  created: () => undefined, transitioned: () => undefined, acknowledged: () => undefined, closed: () => undefined,
  escalated: () => undefined, failedHandoff: () => undefined, refused: () => undefined,
};
