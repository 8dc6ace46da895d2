import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES } from '@clinmesh/embedded-platform';
import { EmbeddedLauncher, WebhookReceiver, adtMessage, testEnvironment, uniqueName, waitFor } from '@clinmesh/testing';

/**
 * Issue 8, "nothing lost, whatever stops": `npm start`'s launcher, stopped
 * with Ctrl-C while at least 500 acknowledged messages are in flight, and
 * killed with its whole process group mid-stream. After each restart (a new,
 * empty Kafka-protocol cluster; the databases survive) every acknowledged
 * message's effects — its task and its webhook delivery — exist exactly once,
 * counted by message id. On the wire, a webhook in flight when the platform was
 * killed may be sent again under the same webhook-id (the receiver's
 * idempotency key); after an orderly stop, not even that.
 */
describe('whole-platform stop and crash: nothing acknowledged is lost or doubled', { timeout: 1_500_000 }, () => {
  const env = testEnvironment();
  const dir = join(env.platformDir, uniqueName('launcher'));
  const launcher = new EmbeddedLauncher(dir, { CLINMESH_DRAIN_TIMEOUT_MS: '300000' });
  const secret = 'restart-webhook-secret-0123456789';
  const webhook = new WebhookReceiver(secret);
  /** message id (= correlation id) of every acknowledged message, by control id. */
  const acknowledged = new Map<string, string>();

  before(async () => {
    const url = await webhook.start();
    await launcher.start();
    const r = await launcher.request('notifier', 'POST', '/v1/subscriptions', { url, secret, filter: {}, name: 'restart-e2e' });
    assert.equal(r.status, 201, r.text);
  });
  after(async () => {
    if (launcher.pid) await launcher.interrupt().catch(() => launcher.killGroup().catch(() => undefined));
    await webhook.stop();
    // The data goes; the logs stay (they are small), so a failed run can be read — the test runner drops
    // the whole platform directory when every test passed.
    for (const entry of existsSync(dir) ? readdirSync(dir) : []) if (entry !== 'logs') rmSync(join(dir, entry), { recursive: true, force: true });
  });

  /** Sends `total` ADT^A01 over 4 MLLP connections; `onAck` after each positive ACK. Stops quietly when the listener goes away. */
  async function send(prefix: string, total: number, onAck: (sent: number) => void = () => undefined): Promise<string[]> {
    const acked: string[] = [];
    const connections = await Promise.all([0, 1, 2, 3].map(() => launcher.mllpClient()));
    await Promise.all(connections.map(async (c, k) => {
      try {
        for (let i = k; i < total; i += connections.length) {
          const controlId = `${prefix}-${String(i).padStart(5, '0')}`;
          const ack = (await c.send(adtMessage({ controlId, mrn: `MRN-${prefix}-${i % 89}` }))).toString('utf8');
          if (/MSA\|AA\|/.test(ack)) {
            acked.push(controlId);
            onAck(acked.length);
          }
        }
      } catch {
        // the launcher went away mid-stream: only what was acknowledged counts
      } finally {
        await c.close().catch(() => undefined);
      }
    }));
    return acked;
  }

  async function recordMessageIds(controlIds: string[]): Promise<void> {
    const rows = await launcher.query<{ control_id: string; message_id: string }>('ingest', 'SELECT control_id, message_id FROM in_message WHERE control_id = ANY($1)', [controlIds]);
    for (const r of rows) acknowledged.set(r.control_id, r.message_id);
    assert.equal(rows.length, controlIds.length, 'every acknowledged message is stored');
  }

  /**
   * Every acknowledged message has its task and its delivery, nothing is left
   * to publish or to consume anywhere (two consecutive rounds), and then each
   * effect exists exactly once per message id.
   */
  async function assertExactlyOnce(wire: 'once' | 'idempotent'): Promise<number> {
    const ids = [...acknowledged.values()];
    const idSet = new Set(ids);
    await waitFor(async () => {
      const [t] = await launcher.query('task', 'SELECT count(DISTINCT correlation_id)::int AS c FROM tk_task WHERE correlation_id = ANY($1)', [ids]);
      return t.c === ids.length;
    }, { what: `a task for each of ${ids.length} acknowledged messages`, timeoutMs: 600_000, intervalMs: 1000 });
    await waitFor(() => new Set(webhook.deliveries.map((d) => d.correlationId).filter((c) => idSet.has(c))).size === ids.length,
      { what: `a webhook delivery for each of ${ids.length} acknowledged messages`, timeoutMs: 300_000, intervalMs: 1000 });
    let quiet = 0;
    await waitFor(async () => {
      let pending = 0;
      for (const s of SERVICE_NAMES) {
        const [{ n }] = await launcher.query(s, 'SELECT count(*)::int AS n FROM cm_outbox');
        pending += n;
        const metrics = await launcher.request(s, 'GET', '/metrics');
        pending += metrics.text.split('\n').filter((l) => l.startsWith('clinmesh_consumer_lag{')).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      }
      quiet = pending === 0 ? quiet + 1 : 0;
      return quiet >= 2;
    }, { what: 'every outbox published and every consumer at its log end (re-publication finished)', timeoutMs: 300_000, intervalMs: 1000 });
    // Every delivery row's webhook-id at the subscriber. A message's first webhook is not its last (routed
    // views and task events are separate deliveries), and a delivery in flight when the notifier was killed
    // is sent again only when its lease expires.
    await waitFor(async () => {
      const [{ n }] = await launcher.query('notifier', 'SELECT count(*)::int AS n FROM nf_delivery WHERE correlation_id = ANY($1)', [ids]);
      return new Set(webhook.deliveries.filter((d) => idSet.has(d.correlationId)).map((d) => d.deliveryId)).size >= n;
    }, { what: 'every delivery row received under its webhook-id', timeoutMs: 300_000, intervalMs: 1000 });

    const [tasks] = await launcher.query('task', 'SELECT count(*)::int AS n, count(DISTINCT (correlation_id, workflow))::int AS u, count(DISTINCT correlation_id)::int AS c FROM tk_task WHERE correlation_id = ANY($1)', [ids]);
    assert.equal(tasks.c, ids.length, 'every acknowledged message has its task');
    assert.equal(tasks.n, tasks.u, 'no task twice');
    const [deliveries] = await launcher.query('notifier', 'SELECT count(*)::int AS n, count(DISTINCT (subscription_id, source_event_id))::int AS u, count(DISTINCT correlation_id)::int AS c FROM nf_delivery WHERE correlation_id = ANY($1)', [ids]);
    assert.equal(deliveries.c, ids.length, 'every acknowledged message has its delivery');
    assert.equal(deliveries.n, deliveries.u, 'no delivery twice');
    const received = webhook.deliveries.filter((d) => idSet.has(d.correlationId));
    const distinct = new Set(received.map((d) => d.deliveryId)).size;
    assert.equal(distinct, deliveries.n, 'every delivery reached the subscriber, each under its one webhook-id');
    if (wire === 'once') assert.equal(received.length, distinct, 'after an orderly stop no delivery reached the subscriber twice');
    // After a crash a webhook whose answer came but whose outcome was not yet committed is sent again
    // with the same webhook-id (Standard Webhooks' idempotency key): at least once on the wire, once in effect.
    return received.length - distinct;
  }

  it('Ctrl-C with 600 acknowledged messages in flight: intake closes, everything drains, and after npm start again each message has its effects exactly once', async () => {
    const acked = await send('SIGINT', 600);
    assert.equal(acked.length, 600, 'all 600 acknowledged before Ctrl-C');
    await recordMessageIds(acked);
    const [{ c: doneBefore }] = await launcher.query('task', 'SELECT count(DISTINCT correlation_id)::int AS c FROM tk_task WHERE correlation_id = ANY($1)', [[...acknowledged.values()]]);

    const exit = await launcher.interrupt();
    assert.equal(exit.code, 0, launcher.stdout.slice(-2000));
    assert.match(launcher.stdout, /intake closed/);
    assert.match(launcher.stdout, /drained in [\d.]+ s/, 'the drain finished within its bound');

    await launcher.start();
    await assertExactlyOnce('once');
    console.log(`SIGINT: ${600 - doneBefore} of 600 acknowledged messages had no task yet when Ctrl-C came`);
  });

  it('SIGKILL to the launcher\'s whole process group mid-stream: after npm start again every acknowledged message has its effects exactly once', async () => {
    let killed: Promise<void> | null = null;
    const acked = await send('SIGKILL', 800, (n) => {
      if (n === 500 && !killed) killed = launcher.killGroup();
    });
    assert.ok(killed, 'the platform was killed mid-stream');
    await killed;
    assert.ok(acked.length >= 500, `${acked.length} acknowledged before the kill`);

    await launcher.start();
    await recordMessageIds(acked);
    const resent = await assertExactlyOnce('idempotent');
    console.log(`SIGKILL after ${acked.length} acknowledged: ${resent} webhook(s) re-sent under their webhook-id after the crash`);
  });
});
