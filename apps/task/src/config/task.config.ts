import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceConfig, SettingsReader } from '@clinmesh/service-kit';
import { WorkflowCatalog } from '../domain/workflow/workflow.model';
import { asDefinition, catalogProblems } from '../domain/workflow/workflow.validator';
import { FacilityCalendar, calendarProblems } from '../domain/sla/facility-calendar';
import { SlaOverrides } from '../domain/sla/sla';
import { parseDuration } from '../domain/sla/duration';
import { BUILT_IN_CALENDAR, BUILT_IN_WORKFLOWS } from './built-in-workflows';

/** Task's own settings (`TASK_*`), read and checked once at start. */
export interface TaskConfig {
  catalog: WorkflowCatalog;
  calendar: FacilityCalendar;
  overrides: SlaOverrides;
  timers: {
    /** How often the due index is polled. */
    pollMs: number;
    /** Timers fired per poll at most. */
    batch: number;
    /** Timers fired in parallel (each in its own transaction). */
    concurrency: number;
    /** 0 = the timer worker does not run (HTTP/consumers only). */
    enabled: boolean;
  };
}

const TIERS = ['stat', 'urgent', 'routine', 'bulk'];

/** Checks workflow and calendar data; every problem of every file listed, or the data. */
export function loadWorkflowData(workflows: Array<{ source: string; raw: unknown }>, calendar: { source: string; raw: unknown }): { catalog: WorkflowCatalog; calendar: FacilityCalendar; problems: string[] } {
  const problems = [...catalogProblems(workflows), ...calendarProblems(calendar.raw, calendar.source)];
  return { catalog: new WorkflowCatalog(workflows.map((w) => asDefinition(w.raw))), calendar: calendar.raw as FacilityCalendar, problems };
}

/**
 * Every `TASK_*` setting, read once; a bad value or an invalid workflow
 * stops the start with all problems listed. `TASK_WORKFLOWS_DIR` replaces
 * the shipped workflows with the `*.workflow.json` (and `facility.calendar.json`)
 * of a directory; `TASK_SLA_OVERRIDES` (`{"<workflow>":{"<tier>":"PT5S"}}`) and
 * `TASK_ESCALATION_OVERRIDES` (`{"<workflow>":["PT0S","PT5S"]}`) shorten SLAs for tests.
 */
export function loadTaskConfig(config: ServiceConfig): TaskConfig {
  const s = new SettingsReader('TASK', config.env);

  let workflows = BUILT_IN_WORKFLOWS;
  let calendarEntry = BUILT_IN_CALENDAR;
  const dir = s.raw('WORKFLOWS_DIR');
  if (dir) {
    try {
      workflows = readdirSync(dir).filter((f) => f.endsWith('.workflow.json')).sort().map((f) => ({ source: f, raw: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
      if (!workflows.length) s.problem(`TASK_WORKFLOWS_DIR: no *.workflow.json in ${dir}`);
      const calendarFile = readdirSync(dir).find((f) => f === 'facility.calendar.json');
      if (calendarFile) calendarEntry = { source: calendarFile, raw: JSON.parse(readFileSync(join(dir, calendarFile), 'utf8')) };
    } catch (e) {
      s.problem(`TASK_WORKFLOWS_DIR: cannot read ${dir} (${(e as Error).message})`);
    }
  }
  const data = loadWorkflowData(workflows, calendarEntry);
  data.problems.forEach((p) => s.problem(p));

  const sla = s.json('SLA_OVERRIDES') as SlaOverrides['sla'] | undefined;
  for (const [wf, tiers] of Object.entries(sla ?? {})) {
    if (!data.catalog.get(wf)) s.problem(`TASK_SLA_OVERRIDES: unknown workflow "${wf}"`);
    for (const [tier, d] of Object.entries(tiers ?? {})) {
      if (!TIERS.includes(tier)) s.problem(`TASK_SLA_OVERRIDES: ${wf}: unknown tier "${tier}"`);
      if (typeof d !== 'string' || parseDuration(d) === null) s.problem(`TASK_SLA_OVERRIDES: ${wf}.${tier}: not an ISO 8601 duration (${JSON.stringify(d)})`);
    }
  }
  const escalation = s.json('ESCALATION_OVERRIDES') as SlaOverrides['escalation'] | undefined;
  for (const [wf, rungs] of Object.entries(escalation ?? {})) {
    const def = data.catalog.get(wf);
    if (!def) s.problem(`TASK_ESCALATION_OVERRIDES: unknown workflow "${wf}"`);
    if (!Array.isArray(rungs) || rungs.some((d) => typeof d !== 'string' || parseDuration(d) === null)) s.problem(`TASK_ESCALATION_OVERRIDES: ${wf}: must be a list of ISO 8601 durations`);
    else if (def && rungs.length !== def.escalation.length) s.problem(`TASK_ESCALATION_OVERRIDES: ${wf}: ${rungs.length} offsets for a ladder of ${def.escalation.length} rungs`);
  }

  const result: TaskConfig = {
    catalog: data.catalog,
    calendar: data.calendar,
    overrides: { sla: sla ?? {}, escalation: escalation ?? {} },
    timers: {
      pollMs: s.int('TIMER_POLL_MS', 1000, { min: 10 }),
      batch: s.int('TIMER_BATCH', 500, { min: 1 }),
      concurrency: s.int('TIMER_CONCURRENCY', 4, { min: 1 }),
      enabled: s.raw('TIMERS') !== 'off',
    },
  };
  s.assertValid('task');
  return result;
}
