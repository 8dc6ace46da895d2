import { main } from '@clinmesh/service-kit';
import { identityResolutionService } from './identity-resolution.service';

main(identityResolutionService);
