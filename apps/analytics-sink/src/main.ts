import { main } from '@clinmesh/service-kit';
import { analyticsSinkService } from './analytics-sink.service';

main(analyticsSinkService);
