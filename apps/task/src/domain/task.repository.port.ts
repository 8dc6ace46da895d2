import { Task } from './task';

export interface TaskRepositoryPort {
  /** Creates the task unless one with this id exists; returns whether it was created. */
  createIfAbsent(task: Task): Promise<boolean>;
}

export interface TaskQuery {
  epid?: string;
  status?: string;
  correlationId?: string;
  workflow?: string;
  limit: number;
}
