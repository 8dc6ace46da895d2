import { Counter, Gauge, Histogram } from 'prom-client';
import type { RuntimeMetrics } from '@clinmesh/observability';
import { TaskObserver } from '../../application/task-observer';
import { Task } from '../../domain/task';
import { TaskReader } from '../../domain/task.ports';

const SECONDS = [5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200];

/** The clinical dashboards' task metrics, on the service's registry (one instance per process, held by the Nest container). */
export class TaskMetrics implements TaskObserver {
  private readonly timeToAck: Histogram<string>;
  private readonly timeToClose: Histogram<string>;
  private readonly breaches: Counter<string>;
  private readonly escalations: Counter<string>;
  private readonly handoffs: Counter<string>;
  private readonly created_: Counter<string>;
  private readonly transitions: Counter<string>;
  private readonly refusals: Counter<string>;
  private readonly timerLag: Histogram<string>;

  constructor(metrics: RuntimeMetrics, reader: TaskReader, clock: () => number = Date.now) {
    const registers = [metrics.registry];
    this.timeToAck = new Histogram({ name: 'clinmesh_task_time_to_acknowledge_seconds', help: 'Task created → closed-loop acknowledgement received, per workflow and tier', labelNames: ['workflow', 'tier'], buckets: SECONDS, registers });
    this.timeToClose = new Histogram({ name: 'clinmesh_task_time_to_complete_seconds', help: 'Task created → closed (completed, cancelled, failed; outcome label), per workflow and tier', labelNames: ['workflow', 'tier', 'outcome'], buckets: SECONDS, registers });
    this.breaches = new Counter({ name: 'clinmesh_task_sla_breaches_total', help: 'Tasks whose SLA due time passed with the SLA clock running (counted once per task)', labelNames: ['workflow', 'tier'], registers });
    this.escalations = new Counter({ name: 'clinmesh_task_escalations_total', help: 'Escalation ladder rungs fired (task.escalated events)', labelNames: ['workflow', 'tier', 'rung'], registers });
    this.handoffs = new Counter({ name: 'clinmesh_task_failed_handoffs_total', help: 'Failed handoffs: the ladder exhausted with nobody acting, or a stat notification delivery dead', labelNames: ['workflow', 'tier', 'cause'], registers });
    this.created_ = new Counter({ name: 'clinmesh_task_created_total', help: 'Tasks opened', labelNames: ['workflow', 'tier'], registers });
    this.transitions = new Counter({ name: 'clinmesh_task_transitions_total', help: 'Workflow transitions taken', labelNames: ['workflow', 'transition'], registers });
    this.refusals = new Counter({ name: 'clinmesh_task_requests_refused_total', help: 'Task change requests refused, by stable error code (412, 409, 422, 403, 404)', labelNames: ['code'], registers });
    this.timerLag = new Histogram({ name: 'clinmesh_task_timer_lag_seconds', help: 'SLA timer firing lag: when a rung fired minus when it was due', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60], registers });
    new Gauge({
      name: 'clinmesh_task_open_backlog', help: 'Open tasks by workflow, tier and age (lt15m, 15m-1h, 1h-4h, 4h-24h, gt24h)', labelNames: ['workflow', 'tier', 'age'], registers,
      async collect() {
        this.reset();
        for (const r of await reader.backlogByAge(clock())) this.set({ workflow: r.workflow, tier: r.tier, age: r.age }, r.n);
      },
    });
  }

  created(task: Task): void {
    this.created_.inc({ workflow: task.workflow, tier: task.tier });
  }
  transitioned(task: Task, transition: string): void {
    this.transitions.inc({ workflow: task.workflow, transition });
  }
  acknowledged(task: Task, seconds: number): void {
    this.timeToAck.observe({ workflow: task.workflow, tier: task.tier }, Math.max(0, seconds));
  }
  closed(task: Task, seconds: number): void {
    this.timeToClose.observe({ workflow: task.workflow, tier: task.tier, outcome: task.fhirStatus }, Math.max(0, seconds));
  }
  escalated(task: Task, rung: number, firstBreach: boolean, lagSeconds: number): void {
    this.escalations.inc({ workflow: task.workflow, tier: task.tier, rung: String(rung) });
    if (firstBreach) this.breaches.inc({ workflow: task.workflow, tier: task.tier });
    this.timerLag.observe(lagSeconds);
  }
  failedHandoff(task: Task, cause: 'ladder-exhausted' | 'delivery-dead'): void {
    this.handoffs.inc({ workflow: task.workflow, tier: task.tier, cause });
  }
  refused(code: string): void {
    this.refusals.inc({ code });
  }
}
