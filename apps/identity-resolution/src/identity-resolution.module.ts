import { Module } from '@nestjs/common';

/** HTTP surface of identity-resolution (person lookup and review arrive with the matcher). */
@Module({})
export class IdentityResolutionModule {}
