import { main } from '@clinmesh/service-kit';
import { policyService } from './policy.service';

main(policyService);
