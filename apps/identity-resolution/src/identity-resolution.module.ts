import { Module } from '@nestjs/common';
import { PersonController } from './adapters/http/person.controller';
import { ReviewItemController } from './adapters/http/review-item.controller';
import { IdentityAdminController } from './adapters/http/identity-admin.controller';
import { MASTER_PATIENT_INDEX } from './adapters/http/identity-resolution.tokens';
import { masterPatientIndex } from './identity-resolution.config';

/** HTTP surface of identity-resolution: persons, unmerge, review queue, matcher operator commands. */
@Module({
  controllers: [PersonController, ReviewItemController, IdentityAdminController],
  providers: [{ provide: MASTER_PATIENT_INDEX, useFactory: () => masterPatientIndex() }],
})
export class IdentityResolutionModule {}
