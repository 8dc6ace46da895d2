import { Tier } from '@clinmesh/topology';

export type TaskStatus = 'open' | 'in-progress' | 'completed' | 'cancelled';

export interface Task {
  taskId: string;
  workflow: string;
  status: TaskStatus;
  tier: Tier;
  epid: string;
  correlationId: string;
  sourceEventId: string;
  title: string;
  messageType: string;
  resourceType: string;
  canonicalId: string;
  audiences: string[];
  dueAt: number;
  createdAt: number;
  version: number;
}

/** Titles name the work, never the patient (tasks travel to webhooks). */
export function taskTitle(workflow: string, messageType: string): string {
  return `${workflow.replace(/-/g, ' ')}: ${messageType}`;
}
