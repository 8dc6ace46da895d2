import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import type { CanonicalEvent, RoutedEvent } from '@clinmesh/schemas';
import { analyticsSinkConsumers } from './analytics-sink.consumers';
import { canonicalEvent, glucose } from './testing/canonical-event.builders';

describe('analytics-sink consumers', () => {
  const seen: CanonicalEvent[] = [];
  const handler = { handle: async (event: CanonicalEvent) => seen.push(event) };
  const identity = { handle: async () => 0 };

  it('identified mode: one group per tier on clinical.canonical.<tier> plus clinical.identity.events', () => {
    const defs = analyticsSinkConsumers({ topics: 'canonical', tiers: ['stat', 'urgent'] }, handler, identity);
    assert.deepEqual(defs.map((d) => [d.name, d.topics[0], d.schema]), [
      ['stat', 'clinical.canonical.stat', 'CanonicalEvent'],
      ['urgent', 'clinical.canonical.urgent', 'CanonicalEvent'],
      ['identity-events', 'clinical.identity.events', 'IdentityEvent'],
    ]);
  });

  it('research mode: the de-identified topics (RoutedEvent), the pseudonym as EPID, no identity events', async () => {
    const defs = analyticsSinkConsumers({ topics: 'deidentified', tiers: ['routine'] }, handler, identity);
    assert.deepEqual(defs.map((d) => [d.name, d.topics[0], d.schema, d.tier]), [['deidentified.routine', 'clinical.deidentified.routine', 'RoutedEvent', 'routine']]);
    const canonical = canonicalEvent([glucose('o-1', 5, 0)], { epid: 'EPID-REAL' });
    const routed = { epid: 'PSEUDO-1', deidentified: true, canonical } as unknown as RoutedEvent;
    await defs[0].handle({ value: routed } as InboundEvent<unknown>, {} as EventContext);
    assert.equal(seen.at(-1)!.epid, 'PSEUDO-1');
    assert.equal(seen.at(-1)!.records!.observations[0].id, 'o-1');
  });
});
