import { Module } from '@nestjs/common';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { TIERS, stageTopic } from '@clinmesh/topology';
import { ServiceSpec } from '@clinmesh/service-kit';
import { NormalizeMessageHandler } from './application/normalize-message.handler';

class CanonicalRecordTable1732200002000 implements MigrationInterface {
  name = 'CanonicalRecordTable1732200002000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE nz_canonical_record (canonical_id text PRIMARY KEY, epid text NOT NULL, resource_type text NOT NULL,
      last_event_id text NOT NULL, mapping_version text NOT NULL, updated_at timestamptz NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS nz_canonical_record');
  }
}

@Module({})
class NormalizationModule {}

const normalize = new NormalizeMessageHandler();

/** Composition root of normalization: clinical.identified.* → clinical.canonical.*. */
export const normalizationService: ServiceSpec = {
  name: 'normalization',
  defaultPort: 8083,
  module: NormalizationModule,
  migrations: [CanonicalRecordTable1732200002000],
  consumers: () => TIERS.map((tier) => ({
    tier,
    topics: [stageTopic('identified', tier)],
    readerSchema: 'IdentifiedEvent' as const,
    handler: (event, ctx) => normalize.handle(event as never, ctx),
  })),
};
