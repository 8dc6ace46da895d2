import { Module } from '@nestjs/common';
import { TIERS, stageTopic } from '@clinmesh/topology';
import { ServiceSpec } from '@clinmesh/service-kit';
import { CreateTasksHandler } from './application/create-tasks.handler';
import { TaskRepository, TaskTable1732200004000 } from './adapters/persistence/task.repository';
import { TaskController } from './adapters/http/task.controller';

@Module({ controllers: [TaskController] })
class TaskModule {}

const createTasks = new CreateTasksHandler((ctx) => new TaskRepository(ctx.uow));

/** Composition root of task: clinical.routed.* → tasks (+ clinical.tasks.*). */
export const taskService: ServiceSpec = {
  name: 'task',
  defaultPort: 8085,
  module: TaskModule,
  migrations: [TaskTable1732200004000],
  consumers: () => TIERS.map((tier) => ({
    tier,
    topics: [stageTopic('routed', tier)],
    readerSchema: 'RoutedEvent' as const,
    handler: (event, ctx) => createTasks.handle(event as never, ctx),
  })),
};
