import { main } from '@clinmesh/service-kit';
import { normalizationService } from './normalization.service';

main(normalizationService);
