import { FHIR_TASK_STATUSES, WorkflowDefinition } from './workflow.model';
import { parseDuration } from '../sla/duration';

const NAME = /^[a-z][a-z0-9-]*$/;
const TIERS = ['stat', 'urgent', 'routine', 'bulk'] as const;
const TOP_KEYS = new Set(['$schema', 'id', 'version', 'title', 'description', 'startsFrom', 'roles', 'acknowledgement', 'feedback', 'initial', 'states', 'transitions', 'sla', 'escalation']);
const STATE_KEYS = new Set(['fhirStatus', 'businessStatus', 'terminal', 'slaClock']);
const TRANSITION_KEYS = new Set(['name', 'from', 'to', 'guard', 'owner', 'requires', 'roles', 'system']);
const STARTS_KEYS = new Set(['routedWorkflows', 'default', 'identityEvents', 'policyEvents', 'operationsEvents']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);

/**
 * Every problem of one workflow definition, as `<source>: <path>: <problem>`:
 * the shape of workflow.schema.json and what a schema cannot say (states and
 * transitions refer to each other, every non-terminal state has a way out,
 * every state is reachable, ladder rungs do not go back in time). Empty = valid.
 */
export function workflowProblems(raw: unknown, source: string): string[] {
  const problems: string[] = [];
  const p = (path: string, msg: string) => problems.push(`${source}: ${path}: ${msg}`);
  if (!isObject(raw)) return [`${source}: not an object`];
  for (const k of Object.keys(raw)) if (!TOP_KEYS.has(k)) p(k, 'unknown property');
  if (typeof raw.id !== 'string' || !NAME.test(raw.id)) p('id', 'must be a lower-case name (a-z, 0-9, -)');
  if (!Number.isInteger(raw.version) || (raw.version as number) < 1) p('version', 'must be an integer ≥ 1');
  if (typeof raw.title !== 'string' || !raw.title) p('title', 'is required');
  if (!isObject(raw.startsFrom)) p('startsFrom', 'is required (an object)');
  else {
    for (const k of Object.keys(raw.startsFrom)) if (!STARTS_KEYS.has(k)) p(`startsFrom.${k}`, 'unknown property');
    for (const k of ['routedWorkflows', 'identityEvents', 'policyEvents', 'operationsEvents']) {
      if (raw.startsFrom[k] !== undefined && !isStringArray(raw.startsFrom[k])) p(`startsFrom.${k}`, 'must be a list of names');
    }
  }
  if (!isStringArray(raw.roles) || raw.roles.length === 0) p('roles', 'must list at least one role');
  const states = isObject(raw.states) ? raw.states : undefined;
  if (!states) p('states', 'is required (an object of states)');
  const stateNames = new Set(Object.keys(states ?? {}));
  for (const [name, s] of Object.entries(states ?? {})) {
    if (!isObject(s)) { p(`states.${name}`, 'must be an object'); continue; }
    for (const k of Object.keys(s)) if (!STATE_KEYS.has(k)) p(`states.${name}.${k}`, 'unknown property');
    if (!FHIR_TASK_STATUSES.includes(s.fhirStatus as never)) p(`states.${name}.fhirStatus`, `must be a FHIR Task status (${FHIR_TASK_STATUSES.join(', ')})`);
    if (typeof s.businessStatus !== 'string' || !s.businessStatus) p(`states.${name}.businessStatus`, 'is required');
    if (s.slaClock !== undefined && s.slaClock !== 'running' && s.slaClock !== 'stopped') p(`states.${name}.slaClock`, 'must be running or stopped');
    if (s.terminal === true && s.slaClock !== undefined) p(`states.${name}.slaClock`, 'a terminal state has no SLA clock');
    const terminalStatus = ['completed', 'cancelled', 'failed', 'entered-in-error', 'rejected'].includes(s.fhirStatus as string);
    if (terminalStatus !== (s.terminal === true)) p(`states.${name}`, `terminal must be ${terminalStatus} for FHIR status ${String(s.fhirStatus)}`);
  }
  if (typeof raw.initial !== 'string' || !stateNames.has(raw.initial)) p('initial', `must name a state (got ${JSON.stringify(raw.initial)})`);
  else if ((states![raw.initial] as { terminal?: boolean }).terminal) p('initial', 'cannot be a terminal state');
  const transitions = Array.isArray(raw.transitions) ? raw.transitions : undefined;
  if (!transitions || transitions.length === 0) p('transitions', 'must list at least one transition');
  const leaving = new Set<string>();
  const reached = new Set<string>(typeof raw.initial === 'string' ? [raw.initial] : []);
  const seen = new Set<string>();
  (transitions ?? []).forEach((t: unknown, i: number) => {
    const at = `transitions[${i}]`;
    if (!isObject(t)) { p(at, 'must be an object'); return; }
    for (const k of Object.keys(t)) if (!TRANSITION_KEYS.has(k)) p(`${at}.${k}`, 'unknown property');
    if (typeof t.name !== 'string' || !NAME.test(t.name)) p(`${at}.name`, 'must be a lower-case name');
    if (!isStringArray(t.from) || t.from.length === 0) p(`${at}.from`, 'must list at least one state');
    for (const f of isStringArray(t.from) ? t.from : []) {
      if (!stateNames.has(f)) p(`${at}.from`, `unknown state "${f}"`);
      else if ((states![f] as { terminal?: boolean }).terminal) p(`${at}.from`, `"${f}" is terminal: nothing leaves it`);
      leaving.add(f);
      const key = `${f}→${String(t.to)}`;
      if (seen.has(key)) p(at, `a second transition from "${f}" to "${String(t.to)}" (the target state must pick one transition)`);
      seen.add(key);
    }
    if (typeof t.to !== 'string' || !stateNames.has(t.to)) p(`${at}.to`, `unknown state ${JSON.stringify(t.to)}`);
    else reached.add(t.to);
    if (t.guard !== undefined && t.guard !== 'not-claimed-by-other' && t.guard !== 'claimed-by-actor') p(`${at}.guard`, 'must be not-claimed-by-other or claimed-by-actor');
    if (t.owner !== undefined && !['set', 'clear', 'keep'].includes(t.owner as string)) p(`${at}.owner`, 'must be set, clear or keep');
    if (t.requires !== undefined && !Array.isArray(t.requires)) p(`${at}.requires`, 'must be a list of field names');
    else if (t.requires !== undefined && !isStringArray(t.requires)) p(`${at}.requires`, 'must be a list of field names');
    if (t.roles !== undefined && !isStringArray(t.roles)) p(`${at}.roles`, 'must be a list of roles');
    if (t.system !== undefined && typeof t.system !== 'boolean') p(`${at}.system`, 'must be a boolean');
  });
  for (const [name, s] of Object.entries(states ?? {})) {
    if (!isObject(s)) continue;
    if (s.terminal !== true && !leaving.has(name)) p(`states.${name}`, 'non-terminal state with no transition out of it');
    if (!reached.has(name)) p(`states.${name}`, 'unreachable: no transition leads to it');
  }
  if (raw.acknowledgement !== undefined) {
    const ack = raw.acknowledgement;
    if (!isObject(ack) || typeof ack.state !== 'string' || !stateNames.has(ack.state)) p('acknowledgement.state', 'must name a state');
  }
  if (raw.feedback !== undefined && typeof raw.feedback !== 'boolean') p('feedback', 'must be a boolean');
  if (!isObject(raw.sla)) p('sla', 'is required: one entry per tier');
  else {
    for (const tier of TIERS) {
      const spec = raw.sla[tier];
      if (spec === undefined) p(`sla.${tier}`, 'is required');
      else if (typeof spec !== 'string' || (spec !== 'end-of-shift' && spec !== 'end-of-day' && parseDuration(spec) === null)) p(`sla.${tier}`, `must be an ISO 8601 duration, end-of-shift or end-of-day (got ${JSON.stringify(spec)})`);
    }
    for (const k of Object.keys(raw.sla)) if (!(TIERS as readonly string[]).includes(k)) p(`sla.${k}`, 'unknown tier');
  }
  if (!Array.isArray(raw.escalation) || raw.escalation.length === 0) p('escalation', 'must list at least one rung');
  else {
    let previous = -1;
    raw.escalation.forEach((r: unknown, i: number) => {
      if (!isObject(r)) { p(`escalation[${i}]`, 'must be an object'); return; }
      const after = typeof r.after === 'string' ? parseDuration(r.after) : null;
      if (after === null) p(`escalation[${i}].after`, `must be an ISO 8601 duration (got ${JSON.stringify(r.after)})`);
      else if (after < previous) p(`escalation[${i}].after`, 'rungs must not go back in time');
      else previous = after;
      if (!isStringArray(r.audiences) || r.audiences.length === 0) p(`escalation[${i}].audiences`, 'must list at least one audience');
    });
  }
  return problems;
}

/** Problems across a set: each definition's own, plus duplicate ids and routed names claimed twice. */
export function catalogProblems(entries: Array<{ source: string; raw: unknown }>): string[] {
  const problems = entries.flatMap((e) => workflowProblems(e.raw, e.source));
  const ids = new Map<string, string>();
  const routed = new Map<string, string>();
  let defaults = 0;
  for (const { source, raw } of entries) {
    if (!isObject(raw)) continue;
    const id = String(raw.id);
    if (ids.has(id)) problems.push(`${source}: id: "${id}" is also defined in ${ids.get(id)}`);
    ids.set(id, source);
    const starts = isObject(raw.startsFrom) ? raw.startsFrom : {};
    if (starts.default === true) defaults++;
    for (const name of isStringArray(starts.routedWorkflows) ? starts.routedWorkflows : []) {
      if (routed.has(name)) problems.push(`${source}: startsFrom.routedWorkflows: "${name}" is also started by ${routed.get(name)}`);
      routed.set(name, source);
    }
  }
  if (defaults > 1) problems.push(`workflows: ${defaults} workflows are marked startsFrom.default (at most one)`);
  return problems;
}

export function asDefinition(raw: unknown): WorkflowDefinition {
  const { $schema: _schema, ...definition } = raw as WorkflowDefinition & { $schema?: string };
  return definition;
}
