import { Tier } from '@clinmesh/topology';

/** The six facts of a documented critical-result communication (ACR). */
export interface Acknowledgement {
  finding: string;
  identifiedAt: number;
  communicatedBy: string;
  receivedBy: string;
  receivedAt: number;
  method: string;
  readBack: boolean;
}

export type FeedbackAction = 'ACKNOWLEDGE' | 'DISMISS' | 'DEFER' | 'ESCALATE';
export const FEEDBACK_ACTIONS: readonly FeedbackAction[] = ['ACKNOWLEDGE', 'DISMISS', 'DEFER', 'ESCALATE'];

/** A work item: one per workflow and trigger key. */
export interface Task {
  taskId: string;
  workflow: string;
  workflowVersion: number;
  /** Workflow state; `fhirStatus` + `businessStatus` are its FHIR Task view. */
  state: string;
  fhirStatus: string;
  businessStatus: string;
  tier: Tier;
  /** '' for work without a patient (dead letters). */
  epid: string;
  /** The EPID the task had before a merge moved it (an unmerge moves it back). */
  mergedFromEpid: string | null;
  correlationId: string;
  sourceEventId: string;
  triggerKey: string;
  title: string;
  messageType: string;
  resourceType: string;
  canonicalId: string;
  audiences: string[];
  owner: string | null;
  dueAt: number;
  /** When the SLA clock started: the trigger's receipt (the source message's, the review item's …). */
  startedAt: number;
  createdAt: number;
  updatedAt: number;
  version: number;
  /** Next ladder rung to fire. */
  escalationRung: number;
  /** When the durable timer fires next (null: stopped or ladder exhausted). */
  nextTimerAt: number | null;
  breachedAt: number | null;
  acknowledgement: Acknowledgement | null;
  completedAt: number | null;
  /** Critical results: the finding and when it was identified (facts 1–3 of the acknowledgement). */
  finding: string | null;
  identifiedAt: number | null;
  communicatedBy: string | null;
  details: Record<string, unknown>;
}

export interface TaskHistoryEntry {
  taskId: string;
  at: number;
  actor: string;
  fromState: string | null;
  toState: string;
  action: string;
  reason: string | null;
  details: Record<string, unknown>;
  eventId: string | null;
}

export const FHIR_PRIORITY: Readonly<Record<Tier, string>> = { stat: 'stat', urgent: 'urgent', routine: 'routine', bulk: 'routine' };

/** Titles name the work, never the patient (tasks travel to webhooks). */
export function taskTitle(workflowTitle: string, what: string): string {
  return `${workflowTitle}: ${what}`;
}

export const isOpen = (t: Pick<Task, 'fhirStatus'>) => !['completed', 'cancelled', 'failed', 'entered-in-error', 'rejected'].includes(t.fhirStatus);
