import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClinmeshError } from '@clinmesh/errors';
import { BUILT_IN_CALENDAR, BUILT_IN_WORKFLOWS } from '../../config/built-in-workflows';
import { loadWorkflowData } from '../../config/task.config';
import { allowedFrom, decide, TaskPosition } from './workflow.machine';
import { WorkflowDefinition, WorkflowTransition } from './workflow.model';

const { catalog, problems } = loadWorkflowData(BUILT_IN_WORKFLOWS, BUILT_IN_CALENDAR);

function refusal(fn: () => unknown): ClinmeshError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ClinmeshError, `expected a ClinmeshError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a refusal');
}

/** A task in `state` positioned so the transition's guard holds for `actor`. */
function positioned(def: WorkflowDefinition, state: string, t: WorkflowTransition | undefined, actor: string): TaskPosition {
  return { state, fhirStatus: def.states[state].fhirStatus, owner: t?.guard === 'claimed-by-actor' ? actor : null, version: 3 };
}
const fieldsFor = (t: WorkflowTransition) => Object.fromEntries((t.requires ?? []).map((f) => [f, `value of ${f}`]));

describe('shipped workflows', () => {
  it('all load without a problem', () => {
    assert.deepEqual(problems, []);
    const ids = catalog.definitions.map((d) => d.id).sort();
    for (const required of ['critical-result-review', 'result-review', 'admission-notice', 'discharge-follow-up', 'referral-intake', 'identity-review', 'break-glass-review', 'dead-letter-exception']) {
      assert.ok(ids.includes(required), `${required} is shipped`);
    }
  });

  for (const def of catalog.definitions) {
    const states = Object.keys(def.states);
    describe(`${def.id}: every (state, target) pair`, () => {
      for (const from of states) {
        for (const to of states) {
          const t = def.transitions.find((x) => x.to === to && x.from.includes(from) && !x.system);
          if (t) {
            it(`${from} → ${to} is accepted (${t.name}) and lands on ${def.states[to].fhirStatus}/${def.states[to].businessStatus}`, () => {
              const d = decide(def, positioned(def, from, t, 'dr-a'), { to, actor: { subject: 'dr-a', roles: [(t.roles ?? def.roles)[0]] }, fields: fieldsFor(t) });
              assert.equal(d.to, to);
              assert.equal(d.transition.name, t.name);
              assert.equal(d.target.fhirStatus, def.states[to].fhirStatus);
              assert.equal(d.target.businessStatus, def.states[to].businessStatus);
              if (t.owner === 'set') assert.equal(d.owner, 'dr-a');
              if (t.owner === 'clear') assert.equal(d.owner, null);
            });
          } else {
            it(`${from} → ${to} is refused (422) listing the allowed transitions`, () => {
              const e = refusal(() => decide(def, positioned(def, from, undefined, 'dr-a'), { to, actor: { subject: 'dr-a', roles: null }, fields: { reason: 'x', outcome: 'x' } }));
              assert.equal(e.code, 'TASK.ILLEGAL_TRANSITION');
              assert.equal(e.status, 422);
              assert.deepEqual(e.details?.allowed, allowedFrom(def, from));
              assert.equal(e.details?.currentState, from);
            });
          }
        }
      }
    });

    describe(`${def.id}: required fields, guards, roles, system transitions`, () => {
      for (const t of def.transitions) {
        const from = t.from[0];
        for (const field of t.requires ?? []) {
          it(`${t.name} without "${field}" is refused (422) naming it`, () => {
            const fields = fieldsFor(t);
            delete fields[field];
            const e = refusal(() => decide(def, positioned(def, from, t, 'dr-a'), { to: t.to, actor: { subject: 'dr-a', roles: null, system: t.system }, fields }));
            assert.equal(e.code, 'TASK.MISSING_FIELD');
            assert.equal(e.details?.field, field);
          });
        }
        if (t.system) {
          it(`${t.name} is the system's alone: refused to a person, taken on the system's event`, () => {
            assert.equal(refusal(() => decide(def, positioned(def, from, t, 'dr-a'), { to: t.to, actor: { subject: 'dr-a', roles: null }, fields: fieldsFor(t) })).code, 'TASK.ILLEGAL_TRANSITION');
            assert.equal(decide(def, positioned(def, from, t, 'x'), { to: t.to, actor: { subject: 'identity-resolution', roles: null, system: true }, fields: fieldsFor(t) }).to, t.to);
          });
          continue;
        }
        if (t.guard) {
          it(`${t.name} on a task claimed by someone else is a 409 with the current state`, () => {
            const task = { ...positioned(def, from, t, 'dr-a'), owner: 'dr-b' };
            const e = refusal(() => decide(def, task, { to: t.to, actor: { subject: 'dr-a', roles: null }, fields: fieldsFor(t) }));
            assert.equal(e.code, 'TASK.STATE_CONFLICT');
            assert.equal(e.status, 409);
            assert.deepEqual(e.details?.current, { state: from, status: def.states[from].fhirStatus, owner: 'dr-b', version: 3 });
          });
        }
        it(`${t.name} by a role the workflow does not admit is a 403`, () => {
          const e = refusal(() => decide(def, positioned(def, from, t, 'dr-a'), { to: t.to, actor: { subject: 'dr-a', roles: ['billing'] }, fields: fieldsFor(t) }));
          assert.equal(e.code, 'TASK.ROLE_NOT_ALLOWED');
        });
      }
    });
  }

  it('referral intake goes created → reviewed → scheduled → completed, with its three exits', () => {
    const def = catalog.get('referral-intake')!;
    const path = ['created', 'claimed', 'reviewed', 'scheduled', 'completed'];
    for (let i = 0; i + 1 < path.length; i++) assert.ok(allowedFrom(def, path[i]).some((a) => a.to === path[i + 1]), `${path[i]} → ${path[i + 1]}`);
    assert.equal(def.states['missing-data'].businessStatus, 'awaiting-missing-data');
    assert.equal(def.states['insurance-delay'].fhirStatus, 'on-hold');
    assert.equal(def.states['patient-cancelled'].fhirStatus, 'cancelled');
  });

  it('claim, release, start, complete, cancel, hold and resume are transitions of the clinical workflows', () => {
    for (const id of ['result-review', 'admission-notice', 'discharge-follow-up', 'clinical-review']) {
      const names = new Set(catalog.get(id)!.transitions.map((t) => t.name));
      for (const n of ['claim', 'release', 'start', 'complete', 'cancel', 'hold', 'resume']) assert.ok(names.has(n), `${id} has ${n}`);
    }
  });
});
