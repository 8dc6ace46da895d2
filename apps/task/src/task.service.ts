import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventRuntime, UnitOfWork } from '@clinmesh/event-runtime';
import { RuntimeMetrics } from '@clinmesh/observability';
import { DATA_SOURCE, EVENT_RUNTIME, RUNTIME_METRICS, SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { TaskConfig, loadTaskConfig } from './config/task.config';
import { SlaPolicy } from './domain/sla/sla';
import { TaskReader } from './domain/task.ports';
import { TaskLifecycle } from './application/task-lifecycle';
import { AcknowledgeTaskHandler, RecordFeedbackHandler, TransitionTaskHandler } from './application/change-task.handlers';
import { FireDueTimersHandler } from './application/fire-due-timers.handler';
import { PgTaskReader, PgTaskStore } from './adapters/persistence/task.store';
import { TaskTable1732200004000, TaskWorkflows1764400000000 } from './adapters/persistence/task.migrations';
import { TaskMetrics } from './adapters/metrics/task.metrics';
import { TaskController } from './adapters/http/task.controller';
import { TimerWorker } from './adapters/timers/timer.worker';
import { ACKNOWLEDGE_TASK, FIRE_DUE_TIMERS, RECORD_FEEDBACK, TASK_CONFIG, TASK_LIFECYCLE, TASK_METRICS, TASK_READER, TRANSITION_TASK } from './adapters/http/task.tokens';
import { taskConsumers } from './task.consumers';
import { taskLineage } from './adapters/persistence/task-lineage.reader';

const stores = (uow: UnitOfWork) => new PgTaskStore(uow);
type Deps = [TaskLifecycle, EventRuntime, TaskReader];
const DEPS = [TASK_LIFECYCLE, EVENT_RUNTIME, TASK_READER];

@Module({
  controllers: [TaskController],
  providers: [
    // Every TASK_* setting and every workflow is read and checked here, once: a bad one stops the start with all problems listed.
    { provide: TASK_CONFIG, inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig) => loadTaskConfig(config) },
    { provide: TASK_READER, inject: [DATA_SOURCE], useFactory: (db: DataSource) => new PgTaskReader(db) },
    { provide: TASK_METRICS, inject: [RUNTIME_METRICS, TASK_READER], useFactory: (metrics: RuntimeMetrics, reader: TaskReader) => new TaskMetrics(metrics, reader) },
    {
      provide: TASK_LIFECYCLE, inject: [TASK_CONFIG, TASK_METRICS],
      useFactory: (config: TaskConfig, metrics: TaskMetrics) => new TaskLifecycle(config.catalog, new SlaPolicy(config.calendar, config.overrides), metrics),
    },
    { provide: TRANSITION_TASK, inject: DEPS, useFactory: (...d: Deps) => new TransitionTaskHandler(...d, stores) },
    { provide: ACKNOWLEDGE_TASK, inject: DEPS, useFactory: (...d: Deps) => new AcknowledgeTaskHandler(...d, stores) },
    { provide: RECORD_FEEDBACK, inject: DEPS, useFactory: (...d: Deps) => new RecordFeedbackHandler(...d, stores) },
    { provide: FIRE_DUE_TIMERS, inject: DEPS, useFactory: (...d: Deps) => new FireDueTimersHandler(...d, stores) },
  ],
})
class TaskModule {}

/** Composition root of task: routed views and work-queue events → workflow tasks; worklist and transitions over HTTP; SLA timers → clinical.tasks.*. */
export const taskService: ServiceSpec = {
  name: 'task',
  lineage: taskLineage,
  defaultPort: 8085,
  module: TaskModule,
  migrations: [TaskTable1732200004000, TaskWorkflows1764400000000],
  consumers: (app) => taskConsumers(app.get(TASK_LIFECYCLE)),
  afterStart: async (app, ctx) => {
    const config = app.get<TaskConfig>(TASK_CONFIG);
    if (!config.timers.enabled) return;
    const worker = new TimerWorker(app.get(FIRE_DUE_TIMERS), config.timers, ctx.logger);
    worker.start();
    return { stop: () => worker.stop() };
  },
};
