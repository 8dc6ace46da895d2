import { Module } from '@nestjs/common';
import { tieredConsumer } from '@clinmesh/event-runtime';
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
  consumers: () => tieredConsumer({ stage: 'routed', schema: 'RoutedEvent', handle: (event, ctx) => createTasks.handle(event, ctx) }),
};
