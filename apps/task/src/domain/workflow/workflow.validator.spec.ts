import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILT_IN_WORKFLOWS } from '../../config/built-in-workflows';
import { loadWorkflowData } from '../../config/task.config';
import { catalogProblems, workflowProblems } from './workflow.validator';

const critical = () => JSON.parse(JSON.stringify(BUILT_IN_WORKFLOWS.find((w) => w.source.startsWith('critical'))!.raw));

describe('workflow definitions are refused at load with every error listed', () => {
  it('lists every problem of a broken definition at once', () => {
    const w = critical();
    w.states.requested.fhirStatus = 'open';
    w.transitions[0].to = 'nowhere';
    w.transitions[1].requires = 'reason';
    w.sla.urgent = 'soon';
    w.escalation[1].after = 'PT1M';
    w.escalation[0].after = 'PT5M';
    w.colour = 'red';
    delete w.initial;
    const problems = workflowProblems(w, 'broken.workflow.json');
    const expected = [
      'colour: unknown property', 'states.requested.fhirStatus: must be a FHIR Task status', 'initial: must name a state', 'transitions[0].to: unknown state "nowhere"',
      'transitions[1].requires: must be a list', 'sla.urgent: must be an ISO 8601 duration', 'escalation[1].after: rungs must not go back in time',
    ];
    for (const e of expected) assert.ok(problems.some((p) => p.includes(e)), `reports "${e}" in:\n${problems.join('\n')}`);
    assert.ok(problems.every((p) => p.startsWith('broken.workflow.json: ')));
  });

  it('refuses unreachable states and dead ends', () => {
    const w = critical();
    w.states.limbo = { fhirStatus: 'on-hold', businessStatus: 'limbo' };
    const problems = workflowProblems(w, 'w.json');
    assert.ok(problems.includes('w.json: states.limbo: non-terminal state with no transition out of it'));
    assert.ok(problems.includes('w.json: states.limbo: unreachable: no transition leads to it'));
  });

  it('refuses a set where two workflows share an id or a routed workflow name', () => {
    const a = critical();
    const b = critical();
    const problems = catalogProblems([{ source: 'a.json', raw: a }, { source: 'b.json', raw: b }]);
    assert.ok(problems.some((p) => p.includes('id: "critical-result-review" is also defined in a.json')));
    assert.ok(problems.some((p) => p.includes('startsFrom.routedWorkflows: "critical-result-review" is also started by a.json')));
  });

  it('refuses a calendar with a bad time zone or shift', () => {
    const { problems } = loadWorkflowData(BUILT_IN_WORKFLOWS, { source: 'cal.json', raw: { facility: 'x', timeZone: 'Mars/Olympus', shifts: [{ name: 'day', start: '7am', end: '19:00' }], endOfDay: '23:59' } });
    assert.ok(problems.includes('cal.json: timeZone: not an IANA time zone ("Mars/Olympus")'));
    assert.ok(problems.includes('cal.json: shifts[0].start: must be HH:MM'));
  });
});
