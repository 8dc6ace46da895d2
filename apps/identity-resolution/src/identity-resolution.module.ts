import { Module } from '@nestjs/common';
import { PersonController } from './adapters/http/person.controller';
import { ReviewItemController } from './adapters/http/review-item.controller';
import { MASTER_PATIENT_INDEX } from './adapters/http/identity-resolution.tokens';
import { masterPatientIndex } from './identity-resolution.config';

/** HTTP surface of identity-resolution: persons, unmerge, review queue. */
@Module({
  controllers: [PersonController, ReviewItemController],
  providers: [{ provide: MASTER_PATIENT_INDEX, useFactory: () => masterPatientIndex() }],
})
export class IdentityResolutionModule {}
