import { WorkflowDefinition, WorkflowState, WorkflowTransition } from './workflow.model';
import { illegalTransition, missingField, roleNotAllowed, stateConflict } from '../task.errors';

export interface Actor {
  subject: string;
  /** Roles the actor acts in (token audience claim); null = an internal client trusted with every role. */
  roles: string[] | null;
  /** The service itself, acting on an event. */
  system?: boolean;
}

export interface TransitionRequest {
  to: string;
  actor: Actor;
  fields: Record<string, unknown>;
}

export interface TaskPosition {
  state: string;
  fhirStatus: string;
  owner: string | null;
  version: number;
}

export interface Decision {
  transition: WorkflowTransition;
  from: string;
  to: string;
  target: WorkflowState;
  owner: string | null;
}

/** Transitions out of a state the actor could take (system-only ones only for the system). */
export function allowedFrom(def: WorkflowDefinition, state: string, system = false): Array<{ to: string; transition: string }> {
  return def.transitions.filter((t) => t.from.includes(state) && (system || !t.system)).map((t) => ({ to: t.to, transition: t.name }));
}

const present = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');

/**
 * The interpreter: may `actor` move a task from its state to `to`? Refusals,
 * in order: no such transition (422, with the allowed ones), a role the
 * transition does not admit (403), a required field missing (422, naming it),
 * a guard on ownership (409, with the current state). Pure: no clock, no I/O.
 */
export function decide(def: WorkflowDefinition, task: TaskPosition, request: TransitionRequest): Decision {
  const system = request.actor.system === true;
  const transition = def.transitions.find((t) => t.to === request.to && t.from.includes(task.state) && (system || !t.system));
  if (!transition) throw illegalTransition(task.state, request.to, allowedFrom(def, task.state, system));
  const roles = transition.roles ?? def.roles;
  if (!system && request.actor.roles && !request.actor.roles.some((r) => roles.includes(r))) throw roleNotAllowed(transition.name, roles);
  for (const field of transition.requires ?? []) if (!present(request.fields[field])) throw missingField(transition.name, field);
  const actor = request.actor.subject;
  const current = { state: task.state, status: task.fhirStatus, owner: task.owner, version: task.version };
  if (!system && transition.guard === 'not-claimed-by-other' && task.owner && task.owner !== actor) {
    throw stateConflict(`the task is claimed by someone else`, current);
  }
  if (!system && transition.guard === 'claimed-by-actor' && task.owner !== actor) {
    throw stateConflict(task.owner ? 'the task is claimed by someone else' : 'claim the task first', current);
  }
  const owner = transition.owner === 'set' ? (system ? task.owner : actor) : transition.owner === 'clear' ? null : task.owner;
  return { transition, from: task.state, to: transition.to, target: def.states[transition.to], owner };
}

/** Whether the SLA clock runs in a state (terminal states and `slaClock: stopped` stop it). */
export function slaRunning(state: WorkflowState): boolean {
  return !state.terminal && state.slaClock !== 'stopped';
}
