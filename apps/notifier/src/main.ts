import { main } from '@clinmesh/service-kit';
import { notifierService } from './notifier.service';

main(notifierService);
