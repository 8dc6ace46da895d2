import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestPipeline, WebhookReceiver, adtMessage, hl7Batch, oruMessage, waitFor } from '@clinmesh/testing';

/**
 * Issue #2 proof 5: with a backlog of 20,000 bulk messages at a stage that
 * is working through it, stat messages sent then all come out of the
 * pipeline before the bulk backlog drains, bulk gives way to them while they
 * are active — and the backlog is then delivered in full.
 */
describe('urgency tiers: stat overtakes a bulk backlog', { timeout: 1_800_000 }, () => {
  let pipeline: TestPipeline;
  let webhook: WebhookReceiver;
  const BULK = 20_000;
  const STAT = 20;

  before(async () => {
    pipeline = await TestPipeline.start('tiers');
    webhook = await pipeline.subscribeWebhook();
  });
  after(async () => {
    await webhook?.stop();
    await pipeline?.stop();
  });

  it(`processes ${STAT} stat results ahead of ${BULK.toLocaleString('en')} bulk messages queued before them`, async () => {
    // Hold policy so the backlog builds up in its input topics (clinical.canonical.*).
    await pipeline.processes.policy.kill('SIGTERM');

    const batchSize = 1000;
    for (let b = 0; b < BULK / batchSize; b++) {
      const messages = Array.from({ length: batchSize }, (_, i) => adtMessage({ controlId: `BULK-${b}-${i}`, mrn: `MRN-B-${(b * batchSize + i) % 500}`, trigger: 'A08' }));
      const r = await pipeline.sendHl7(hl7Batch(messages, `BATCH-${b}`));
      assert.equal(r.status, 200);
      assert.match(r.ack, new RegExp(`BTS\\|${batchSize}`));
      assert.equal((r.ack.match(/MSA\|AA\|/g) ?? []).length, batchSize);
    }
    // The backlog is in Kafka before any stat message exists.
    await waitFor(async () => (await pipeline.query('normalization', `SELECT count(*)::int AS n FROM cm_inbox WHERE consumer_group = 'normalization.bulk'`))[0].n === BULK,
      { what: 'the bulk backlog to reach policy\'s input topic', timeoutMs: 900000, intervalMs: 1000 });

    // Policy starts on the backlog; once it is working through it, the stat results arrive. They
    // must overtake what is left, and bulk must give way to them while they are active.
    const bulkAtPolicy = async () => (await pipeline.query('policy', `SELECT count(*)::int AS n FROM cm_inbox WHERE consumer_group = 'policy.bulk'`))[0].n as number;
    pipeline.processes.policy.start();
    await waitFor(async () => (await bulkAtPolicy()) > 0, { what: 'policy to start on the bulk backlog', timeoutMs: 300000, intervalMs: 100 });
    const stat: string[] = [];
    for (let i = 0; i < STAT; i++) {
      const r = await pipeline.sendHl7(oruMessage({ controlId: `STAT-${i}`, mrn: `MRN-S-${i}`, flag: 'HH' }));
      assert.equal(r.status, 200);
      assert.equal(r.tier, 'stat', 'a critical result is triaged stat');
      stat.push(r.messageId!);
    }

    const statSet = new Set(stat);
    // A critical result opens its critical-result task (and others, e.g. result review): each stat
    // message counts once, by its critical-result task event reaching the subscriber.
    const statDelivered = () => new Set(webhook.deliveries
      .filter((d) => statSet.has(d.correlationId) && (d.body as { workflow?: string }).workflow === 'critical-result-review')
      .map((d) => d.correlationId)).size;
    await waitFor(() => statDelivered() === STAT, { what: 'every stat delivery', timeoutMs: 300000, intervalMs: 100 });
    const policyBulkLag = await pipeline.metric('policy', 'clinmesh_consumer_lag', { tier: 'bulk' });
    const bulkWhenStatDone = await bulkAtPolicy();
    assert.ok(bulkWhenStatDone < BULK && policyBulkLag > 0, `all stat delivered while policy's bulk consumer still had lag (${bulkWhenStatDone}/${BULK} processed, lag gauge ${policyBulkLag})`);
    // Bulk gives way by pausing (backlog above it, or pacing after a chunk) or, inside a chunk, by
    // event-loop turns that let the stat transactions' replies in: with turns the stat backlog may be
    // gone before a bulk chunk ends, so no pause is needed — but a turn was taken.
    const yields = await pipeline.metric('policy', 'clinmesh_tier_yields_total', { tier: 'bulk' });
    const turns = await pipeline.metric('policy', 'clinmesh_tier_turns_total', { tier: 'bulk' });
    assert.ok(yields + turns >= 1, `policy's bulk consumer gave way to the higher tiers (pauses ${yields}, event-loop turns ${turns})`);
    const statTasks = await pipeline.query('task', `SELECT count(*)::int AS n FROM tk_task WHERE tier = 'stat' AND workflow = 'critical-result-review'`);
    assert.equal(statTasks[0].n, STAT);

    // Nothing of the backlog is lost: policy works through all of it afterwards.
    await waitFor(async () => (await bulkAtPolicy()) === BULK, { what: 'the bulk backlog to drain through policy', timeoutMs: 1200000, intervalMs: 1000 });
    assert.ok((await pipeline.metric('task', 'clinmesh_end_to_end_latency_seconds_count', { tier: 'stat' })) >= STAT, 'stat end-to-end latency is measured');
  });
});
