import { main } from '@clinmesh/service-kit';
import { taskService } from './task.service';

main(taskService);
