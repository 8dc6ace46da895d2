import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tieredConsumer, topicConsumer } from './consumer-definition';
import { definitionWait, planLanes } from './lanes';

const WAITS = { stat: 20, urgent: 100, routine: 250, bulk: 500 };
const handle = async () => undefined;
// The task service's shape: a tiered stage and four single topics.
const task = [
  ...tieredConsumer({ stage: 'routed', schema: 'RoutedEvent', handle }),
  topicConsumer({ name: 'identity-events', topic: 'clinical.identity.events', schema: 'IdentityEvent', tier: 'urgent', handle }),
  topicConsumer({ name: 'delivery-events', topic: 'clinical.delivery.events', schema: 'DeliveryEvent', handle }),
];
/** Group ids without their fingerprint (asserted apart). */
const bare = (groupId: string) => groupId.replace(/-[0-9a-f]{8}$/, '');
const view = (plans: ReturnType<typeof planLanes>) => plans.map((p) => ({ group: bare(p.groupId), wait: p.maxWaitTimeMs, consumers: p.definitions.map((d) => d.name) }));

describe('consumer lanes', () => {
  it('puts stat in one lane and everything else in a second whose wait is its members\' smallest', () => {
    assert.deepEqual(view(planLanes('task', task, 'stat-main', (d) => definitionWait(d, WAITS))), [
      { group: 'task.lane-stat', wait: 20, consumers: ['stat'] },
      { group: 'task.lane-main', wait: 100, consumers: ['urgent', 'routine', 'bulk', 'identity-events', 'delivery-events'] },
    ]);
  });

  it('gives one lane per tier, or one per definition under its own id (the behaviour before lanes)', () => {
    assert.deepEqual(view(planLanes('task', task, 'tier', (d) => definitionWait(d, WAITS))).map((l) => [l.group, l.consumers]), [
      ['task.lane-stat', ['stat']],
      ['task.lane-urgent', ['urgent', 'identity-events']],
      ['task.lane-routine', ['routine', 'delivery-events']],
      ['task.lane-bulk', ['bulk']],
    ]);
    const own = planLanes('task', task, 'definition', (d) => definitionWait(d, WAITS));
    assert.deepEqual(own.map((l) => l.groupId), ['task.stat', 'task.urgent', 'task.identity-events', 'task.routine', 'task.delivery-events', 'task.bulk']);
  });

  it('never hosts two definitions of one topic in one lane (batches are routed by topic)', () => {
    const twice = [
      topicConsumer({ name: 'a', topic: 'clinical.identity.events', schema: 'IdentityEvent', handle }),
      topicConsumer({ name: 'b', topic: 'clinical.identity.events', schema: 'IdentityEvent', handle }),
      topicConsumer({ name: 'c', topic: 'clinical.policy.events', schema: 'PolicyEvent', handle }),
    ];
    assert.deepEqual(view(planLanes('svc', twice, 'stat-main', () => 250)).map((l) => [l.group, l.consumers]), [
      ['svc.lane-main', ['a', 'c']],
      ['svc.lane-main-2', ['b']],
    ]);
  });

  it('names each lane group after what it hosts: replicas of one configuration share it, differently configured instances of one service never do', () => {
    const groups = (defs: typeof task) => planLanes('sink', defs, 'stat-main', (d) => definitionWait(d, WAITS)).map((l) => l.groupId);
    const identified = tieredConsumer({ stage: 'canonical', schema: 'CanonicalEvent', handle });
    const research = (['stat', 'urgent', 'routine', 'bulk'] as const).map((tier) => topicConsumer({ name: `deidentified.${tier}`, topic: `clinical.deidentified.${tier}`, schema: 'RoutedEvent', tier, handle }));
    assert.deepEqual(groups(identified), groups([...identified].reverse()), 'the same definitions in another order: the same groups');
    for (const g of groups(identified)) assert.match(g, /^sink\.lane-(stat|main)-[0-9a-f]{8}$/);
    const [a, b] = [groups(identified), groups(research)];
    assert.ok(a.every((g) => !b.includes(g)), `identified ${a.join(', ')} vs research ${b.join(', ')}`);
  });

  it('takes a definition\'s own wait over the tier\'s, and refuses an unknown mode', () => {
    const own = topicConsumer({ name: 'x', topic: 't', schema: 'PolicyEvent', maxWaitTimeMs: 40, handle });
    assert.equal(definitionWait(own, WAITS), 40);
    assert.equal(planLanes('svc', [...task, own], 'stat-main', (d) => definitionWait(d, WAITS))[1].maxWaitTimeMs, 40);
    assert.throws(() => planLanes('svc', task, 'per-topic' as never, () => 1), /stat-main, tier, definition/);
  });
});
