import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { tieredConsumer } from '@clinmesh/event-runtime';
import { ServiceSpec } from '@clinmesh/service-kit';
import { RouteEventHandler } from './application/route-event.handler';
import { DecisionController } from './adapters/http/decision.controller';
import { RoutingPolicy } from './domain/routing-policy';

class DecisionTable1732200003000 implements MigrationInterface {
  name = 'DecisionTable1732200003000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE pl_decision (event_id text PRIMARY KEY, correlation_id text NOT NULL, canonical_event_id text NOT NULL, epid text NOT NULL,
      policy_version text NOT NULL, rule_ids text[] NOT NULL, workflows text[] NOT NULL, audiences text[] NOT NULL, tier text NOT NULL,
      original_tier text NOT NULL, explanation text NOT NULL, decided_at timestamptz NOT NULL DEFAULT now())`);
    await q.query('CREATE INDEX pl_decision_correlation ON pl_decision (correlation_id)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS pl_decision');
  }
}

@Module({ controllers: [DecisionController] })
class PolicyModule {}

/** The policy file is data; POLICY_RULES_FILE points at another one in a deployment. */
function loadPolicy(): RoutingPolicy {
  const file = process.env.POLICY_RULES_FILE ?? join(__dirname, '..', '..', '..', '..', 'apps', 'policy', 'src', 'domain', 'routing-policy.data.json');
  return JSON.parse(readFileSync(file, 'utf8')) as RoutingPolicy;
}

const policy = loadPolicy();
const route = new RouteEventHandler(() => policy);

/** Composition root of policy: clinical.canonical.* → clinical.routed.*. */
export const policyService: ServiceSpec = {
  name: 'policy',
  defaultPort: 8084,
  module: PolicyModule,
  migrations: [DecisionTable1732200003000],
  consumers: () => tieredConsumer({ stage: 'canonical', schema: 'CanonicalEvent', handle: (event, ctx) => route.handle(event, ctx) }),
};
