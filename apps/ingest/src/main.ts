import { main } from '@clinmesh/service-kit';
import { ingestService } from './ingest.service';

main(ingestService);
