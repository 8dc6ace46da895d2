import { Tier } from '@clinmesh/topology';

/** FHIR R4 Task.status values. */
export const FHIR_TASK_STATUSES = ['draft', 'requested', 'received', 'accepted', 'rejected', 'ready', 'cancelled', 'in-progress', 'on-hold', 'failed', 'completed', 'entered-in-error'] as const;
export type FhirTaskStatus = (typeof FHIR_TASK_STATUSES)[number];

export type Guard = 'not-claimed-by-other' | 'claimed-by-actor';
export type OwnerEffect = 'set' | 'clear' | 'keep';
/** An ISO 8601 duration from the trigger, or a point of the facility calendar. */
export type SlaSpec = string;

export interface WorkflowState {
  fhirStatus: FhirTaskStatus;
  businessStatus: string;
  terminal?: boolean;
  slaClock?: 'running' | 'stopped';
}

export interface WorkflowTransition {
  name: string;
  from: string[];
  to: string;
  guard?: Guard;
  owner?: OwnerEffect;
  requires?: string[];
  roles?: string[];
  system?: boolean;
}

export interface EscalationRung {
  after: string;
  audiences: string[];
}

/** A workflow as loaded from apps/task/workflows/<id>.workflow.json (see workflow.schema.json). */
export interface WorkflowDefinition {
  id: string;
  version: number;
  title: string;
  description?: string;
  startsFrom: {
    routedWorkflows?: string[];
    default?: boolean;
    identityEvents?: string[];
    policyEvents?: string[];
    operationsEvents?: string[];
  };
  roles: string[];
  acknowledgement?: { state: string };
  feedback?: boolean;
  initial: string;
  states: Record<string, WorkflowState>;
  transitions: WorkflowTransition[];
  sla: Record<Tier, SlaSpec>;
  escalation: EscalationRung[];
}

/** The loaded, checked set of workflows with their lookups. */
export class WorkflowCatalog {
  private readonly byId = new Map<string, WorkflowDefinition>();
  private readonly byRouted = new Map<string, WorkflowDefinition>();
  private readonly fallback?: WorkflowDefinition;

  constructor(readonly definitions: readonly WorkflowDefinition[]) {
    for (const d of definitions) {
      this.byId.set(d.id, d);
      for (const name of d.startsFrom.routedWorkflows ?? []) this.byRouted.set(name, d);
    }
    this.fallback = definitions.find((d) => d.startsFrom.default);
  }

  get(id: string): WorkflowDefinition | undefined {
    return this.byId.get(id);
  }

  /** The workflow a policy decision's workflow name starts (the default one for names no workflow claims). */
  forRouted(name: string): WorkflowDefinition | undefined {
    return this.byRouted.get(name) ?? this.fallback;
  }

  startingFrom(kind: 'identityEvents' | 'policyEvents' | 'operationsEvents', type: string): WorkflowDefinition | undefined {
    return this.definitions.find((d) => d.startsFrom[kind]?.includes(type));
  }
}
