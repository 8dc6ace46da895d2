import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { loadSchemaCatalog } from '@clinmesh/schemas';
import { sourcePatientKey } from '@clinmesh/security';
import { TestPipeline, WebhookReceiver, adtMessage, oruMessage, waitFor } from '@clinmesh/testing';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'hl7v2');
type TaskEventValue = Record<string, any>;

/** A critical (HH) potassium: ORU^R01 with LOINC 2823-3; `filler` makes the result's canonical id its own, `corrected` sends it as a correction (OBX-11 = C). */
function potassium(o: { controlId: string; mrn: string; filler: string; value?: string; corrected?: boolean }): string {
  return oruMessage({ controlId: o.controlId, mrn: o.mrn, flag: 'HH', value: o.value ?? '6.9' })
    .replace(/2345-7\^Glucose\^LN/g, '2823-3^Potassium^LN')
    .replace('|mg/dL|70-99|', '|mmol/L|3.5-5.1|')
    .replace('ORD123|FIL456', `ORD-${o.filler}|FIL-${o.filler}`)
    .replace(/\|\|\|F\|\|\|/, o.corrected ? '|||C|||' : '|||F|||');
}

/**
 * Issue 12 through the six real services: workflows as state machines, the
 * critical-result loop (SLA → task.escalated to the on-call audience, then
 * the supervisor; acknowledgement with the six facts stops it), optimistic
 * concurrency on transitions, the work queues (identity review, break-glass
 * review, dead-letter exceptions), durable timers through a SIGKILL,
 * corrections, a policy replay and an A40 merge. SLAs are shortened by
 * configuration (TASK_SLA_OVERRIDES / TASK_ESCALATION_OVERRIDES).
 */
describe('task workflows end to end', { timeout: 900_000 }, () => {
  let pipeline: TestPipeline;
  let registry: SchemaRegistry;
  const taskEvents: TaskEventValue[] = [];
  const SECRETS = { oncall: 'e2e-oncall-secret-0123456789', supervisor: 'e2e-supervisor-secret-0123456789' };
  const onCall = new WebhookReceiver(SECRETS.oncall);
  const supervisor = new WebhookReceiver(SECRETS.supervisor);
  let stopConsumer: (() => Promise<void>) | undefined;

  const eventsOf = (taskId: string, change?: string) => taskEvents.filter((e) => e.taskId === taskId && (!change || e.change === change));
  const taskFor = async (query: Record<string, string>) =>
    waitFor(async () => (await pipeline.tasks(query))[0], { what: `a task for ${JSON.stringify(query)}`, timeoutMs: 120000 });
  const getTask = async (taskId: string) => {
    const r = await pipeline.request('task', 'GET', `/v1/tasks/${taskId}`);
    assert.equal(r.status, 200, r.text);
    return { task: r.json(), etag: r.headers.get('etag')! };
  };
  const post = (taskId: string, path: string, body: unknown, etag: string, headers: Record<string, string> = {}) =>
    pipeline.request('task', 'POST', `/v1/tasks/${taskId}/${path}`, body, { 'if-match': etag, ...headers });
  const produce = async (topic: string, schema: string, key: string, value: Record<string, unknown>) => {
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(loadSchemaCatalog().schema(schema as never)) }, { subject: `${topic}-value` });
    const producer = pipeline.kafka().producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key, value: await registry.encode(id, value), headers: { 'clinmesh-event-id': String(value.eventId), 'clinmesh-correlation-id': String(value.correlationId) } }] });
    await producer.disconnect();
  };

  before(async () => {
    pipeline = await TestPipeline.start('task', {
      perService: {
        task: {
          TASK_SLA_OVERRIDES: JSON.stringify({ 'critical-result-review': { stat: 'PT4S' }, 'admission-notice': { urgent: 'PT90S' } }),
          TASK_ESCALATION_OVERRIDES: JSON.stringify({ 'critical-result-review': ['PT0S', 'PT30S'], 'admission-notice': ['PT0S', 'PT1H'] }),
          TASK_TIMER_POLL_MS: '200',
        },
      },
    });
    registry = new SchemaRegistry({ host: pipeline.env.registryUrl, auth: pipeline.env.registryAuth });
    const consumer = pipeline.kafka().consumer({ groupId: `${pipeline.name}-task-watch`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['clinical.tasks.stat', 'clinical.tasks.urgent', 'clinical.tasks.routine', 'clinical.tasks.bulk'], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { taskEvents.push(await registry.decode(message.value!)); } });
    stopConsumer = () => consumer.disconnect();
    // The escalation audiences' webhooks: the notifier delivers task.escalated to subscriptions of the rung's audience.
    for (const [receiver, audience, secret] of [[onCall, 'critical-result-oncall', SECRETS.oncall], [supervisor, 'supervisor', SECRETS.supervisor]] as const) {
      const url = await receiver.start();
      const r = await pipeline.request('notifier', 'POST', '/v1/subscriptions', { url, secret, audience, events: ['task.escalated'], name: audience });
      assert.equal(r.status, 201, r.text);
    }
  });
  after(async () => {
    await stopConsumer?.();
    await Promise.all([onCall.stop(), supervisor.stop()]);
    await pipeline?.stop();
  });

  let acked: Record<string, any>;
  let escalating: Record<string, any>;

  it('a critical potassium becomes one stat critical-result task; unacknowledged, task.escalated reaches the on-call webhook, then the supervisor; an acknowledgement stops it with the six facts', async () => {
    // B first, then A: B's second rung would be due before A's, so A's second rung is the watermark that B's never came.
    const b = await pipeline.sendHl7(potassium({ controlId: 'K-ACK-1', mrn: 'MRN-K-ACK', filler: 'KACK' }));
    const a = await pipeline.sendHl7(potassium({ controlId: 'K-ESC-1', mrn: 'MRN-K-ESC', filler: 'KESC' }));
    assert.equal(a.tier, 'stat', 'a critical potassium is triaged stat');
    escalating = await taskFor({ correlationId: a.messageId!, workflow: 'critical-result-review' });
    acked = await taskFor({ correlationId: b.messageId!, workflow: 'critical-result-review' });
    assert.equal(escalating.workflow, 'critical-result-review');
    assert.equal(escalating.tier, 'stat');
    assert.equal(escalating.priority, 'stat');
    assert.match(escalating.finding, /Potassium.*6\.9.*HH/);
    assert.equal((await pipeline.tasks({ correlationId: a.messageId!, workflow: 'critical-result-review' })).length, 1, 'one task per workflow whatever the number of audience copies');

    // Rung 0: the on-call role, at the (test) SLA.
    const rung0 = await waitFor(() => eventsOf(escalating.taskId, 'ESCALATED').find((e) => e.escalationRung === 0), { what: 'rung 0 task.escalated', timeoutMs: 60000 });
    assert.deepEqual(rung0.audiences, ['critical-result-oncall']);
    assert.equal(rung0.breached, true);
    assert.equal(rung0.status, 'requested');
    assert.equal(rung0.businessStatus, 'awaiting-acknowledgement');
    const hook0 = await waitFor(() => onCall.deliveries.find((d) => (d.body as TaskEventValue).taskId === escalating.taskId), { what: 'task.escalated at the on-call webhook', timeoutMs: 60000 });
    assert.equal(hook0.type, 'task.escalated');
    assert.equal(hook0.signatureValid, true);

    // B: acknowledged after its first rung, before its second.
    await waitFor(() => eventsOf(acked.taskId, 'ESCALATED').find((e) => e.escalationRung === 0), { what: 'B escalated once', timeoutMs: 60000 });
    const { etag } = await getTask(acked.taskId);
    const ack = await post(acked.taskId, 'acknowledge', { method: 'phone', receivedBy: 'dr-house', readBack: true, communicatedBy: 'lab-tech-7' }, etag);
    assert.equal(ack.status, 200, ack.text);
    const view = ack.json();
    assert.equal(view.state, 'acknowledged');
    assert.equal(view.status, 'in-progress');
    assert.equal(view.escalation.nextAt, null, 'the SLA clock stopped');
    const facts = view.acknowledgement;
    assert.match(facts.finding, /Potassium/);
    assert.ok(facts.identifiedAt);
    assert.equal(facts.communicatedBy, 'lab-tech-7');
    assert.equal(facts.receivedBy, 'dr-house');
    assert.ok(facts.receivedAt);
    assert.equal(facts.method, 'phone');
    const ackEvent = await waitFor(() => eventsOf(acked.taskId, 'ACKNOWLEDGED')[0], { what: 'the ACKNOWLEDGED task event', timeoutMs: 30000 });
    assert.equal(ackEvent.acknowledgement.method, 'phone');
    assert.equal(ackEvent.acknowledgement.receivedBy, 'dr-house');
    assert.ok((await pipeline.metric('task', 'clinmesh_task_time_to_acknowledge_seconds_count', { workflow: 'critical-result-review', tier: 'stat' })) >= 1, 'time to acknowledge observed');
    const again = await post(acked.taskId, 'acknowledge', { method: 'phone' }, `"${view.version}"`);
    assert.equal(again.status, 409, 'acknowledged already');

    // Rung 1: the supervisor; the ladder is exhausted (a failed handoff).
    const rung1 = await waitFor(() => eventsOf(escalating.taskId, 'ESCALATED').find((e) => e.escalationRung === 1), { what: 'rung 1 task.escalated', timeoutMs: 90000 });
    assert.deepEqual(rung1.audiences, ['supervisor']);
    assert.equal(rung1.ladderExhausted, true);
    await waitFor(() => supervisor.deliveries.find((d) => (d.body as TaskEventValue).taskId === escalating.taskId), { what: 'task.escalated at the supervisor webhook', timeoutMs: 60000 });
    assert.ok((await pipeline.metric('task', 'clinmesh_task_failed_handoffs_total', { workflow: 'critical-result-review', cause: 'ladder-exhausted' })) >= 1);
    assert.ok((await pipeline.metric('task', 'clinmesh_task_sla_breaches_total', { workflow: 'critical-result-review' })) >= 2);
    assert.deepEqual(eventsOf(acked.taskId, 'ESCALATED').map((e) => e.escalationRung), [0], 'the acknowledged task never reached its second rung');
    assert.equal(onCall.deliveries.filter((d) => (d.body as TaskEventValue).taskId === escalating.taskId).length, 1, 'the on-call audience got rung 0 once');
  });

  it('transitions: two claims with the same version → one 200, one 412; 409 with the current state; 422 listing the allowed transitions or naming the missing field; history and ETag', async () => {
    const adt = await pipeline.sendHl7(adtMessage({ controlId: 'TASK-CLAIM-1', mrn: 'MRN-CLAIM-1' }));
    const created = await taskFor({ correlationId: adt.messageId! });
    assert.equal(created.workflow, 'admission-notice');
    const { etag } = await getTask(created.taskId);
    const claims = await Promise.all([
      post(created.taskId, 'transitions', { to: 'claimed' }, etag),
      post(created.taskId, 'transitions', { to: 'claimed' }, etag),
    ]);
    assert.deepEqual(claims.map((c) => c.status).sort(), [200, 412], claims.map((c) => c.text).join(' | '));
    const won = claims.find((c) => c.status === 200)!;
    assert.equal(won.headers.get('etag'), `"${Number(JSON.parse(etag)) + 1}"`);
    assert.equal(claims.find((c) => c.status === 412)!.json().code, 'TASK.VERSION_MISMATCH');
    assert.equal(won.json().owner, 'e2e-tester');

    const nurse = await pipeline.token(['tasks:read', 'tasks:write'], 'nurse-joy');
    const stolen = await post(created.taskId, 'transitions', { to: 'in-progress' }, won.headers.get('etag')!, { authorization: `Bearer ${nurse}` });
    assert.equal(stolen.status, 409, stolen.text);
    assert.equal(stolen.json().code, 'TASK.STATE_CONFLICT');
    assert.deepEqual(stolen.json().current, { state: 'claimed', status: 'accepted', owner: 'e2e-tester', version: Number(JSON.parse(won.headers.get('etag')!)) });

    const illegal = await post(created.taskId, 'transitions', { to: 'completed', outcome: 'x' }, won.headers.get('etag')!);
    assert.equal(illegal.status, 422);
    assert.equal(illegal.json().code, 'TASK.ILLEGAL_TRANSITION');
    assert.deepEqual(illegal.json().allowed.map((a: { to: string }) => a.to).sort(), ['cancelled', 'in-progress', 'on-hold', 'requested']);
    const started = await post(created.taskId, 'transitions', { to: 'in-progress' }, won.headers.get('etag')!);
    assert.equal(started.status, 200, started.text);
    const missing = await post(created.taskId, 'transitions', { to: 'completed' }, started.headers.get('etag')!);
    assert.equal(missing.status, 422);
    assert.deepEqual([missing.json().code, missing.json().field], ['TASK.MISSING_FIELD', 'outcome']);
    const noIfMatch = await pipeline.request('task', 'POST', `/v1/tasks/${created.taskId}/transitions`, { to: 'completed', outcome: 'PCP informed' });
    assert.equal(noIfMatch.status, 428);
    const done = await post(created.taskId, 'transitions', { to: 'completed', outcome: 'PCP informed', reason: 'follow-up booked' }, started.headers.get('etag')!);
    assert.equal(done.status, 200, done.text);
    assert.deepEqual([done.json().status, done.json().businessStatus], ['completed', 'followed-up']);

    const { task, etag: finalTag } = await getTask(created.taskId);
    assert.equal(finalTag, `"${task.version}"`);
    assert.deepEqual(task.history.map((h: { action: string }) => h.action), ['create', 'claim', 'start', 'complete']);
    const last = task.history[task.history.length - 1];
    assert.deepEqual([last.actor, last.from, last.to, last.reason], ['e2e-tester', 'in-progress', 'completed', 'follow-up booked']);
    assert.ok(last.at);
    await waitFor(() => eventsOf(created.taskId, 'COMPLETED')[0], { what: 'COMPLETED task event', timeoutMs: 30000 });
    assert.ok((await pipeline.metric('task', 'clinmesh_task_time_to_complete_seconds_count', { workflow: 'admission-notice' })) >= 1);

    const [{ n: audited }] = await pipeline.query('task', `SELECT count(*)::int AS n FROM cm_audit WHERE action = 'read-task' AND resource = $1`, [`task/${created.taskId}`]);
    assert.ok(audited >= 2, 'every read of a task is audited');
    const page1 = await pipeline.request('task', 'GET', '/v1/tasks?limit=1&workflow=admission-notice&status=completed');
    assert.equal(page1.json().tasks.length, 1);
    assert.equal(page1.json().tasks[0].taskId, created.taskId);
    const breached = await pipeline.request('task', 'GET', '/v1/tasks?breached=true&workflow=critical-result-review');
    assert.ok(breached.json().tasks.some((t: { taskId: string }) => t.taskId === escalating.taskId));
  });

  it('an identity review item, a break-glass grant and a dead-lettered event each open their task; the resolution, the review and the redrive close it', async () => {
    const at = Date.now();
    await produce('clinical.identity.events', 'IdentityEvent', 'EP-REVIEW-1', {
      eventId: 'e2e-review-required-1', correlationId: 'e2e-review-1', type: 'REVIEW_REQUIRED', epid: 'EP-REVIEW-1', otherEpid: 'EP-REVIEW-2', recordKey: 'rk-1', method: 'probabilistic', score: 0.71, reviewItemId: 'review-item-1', resolution: null, at,
    });
    await produce('clinical.policy.events', 'PolicyEvent', 'EP-BTG-1', {
      eventId: 'e2e-btg-1', correlationId: 'e2e-btg-1', kind: 'BREAK_GLASS_GRANTED', epid: 'EP-BTG-1', subjectId: 'grant-1', audience: 'emergency-department', actor: 'dr-who', reason: 'unconscious patient', expiresAt: at + 3_600_000, details: {}, at,
    });
    await produce('clinmesh.operations.events', 'OperationsEvent', 'dl-1', {
      eventId: 'e2e-dead-lettered-1', correlationId: 'e2e-dl-1', kind: 'DEAD_LETTERED', service: 'normalization', consumerGroup: 'normalization.urgent', deadLetterId: 'dl-1', topic: 'clinical.identified.urgent', partition: 0, offset: 42, sourceEventId: 'src-1', errorCode: 'CANONICAL.MAPPING_FAILED', errorMessage: 'no mapping', actor: null, at,
    });
    const review = await taskFor({ workflow: 'identity-review' });
    const btg = await taskFor({ workflow: 'break-glass-review' });
    const dl = await taskFor({ workflow: 'dead-letter-exception' });
    assert.deepEqual([review.status, review.epid, review.canonicalId], ['requested', 'EP-REVIEW-1', 'review-item-1']);
    assert.deepEqual([btg.status, btg.epid, btg.details.actor], ['requested', 'EP-BTG-1', 'dr-who']);
    assert.deepEqual([dl.status, dl.epid, dl.details.errorCode], ['requested', '', 'CANONICAL.MAPPING_FAILED']);

    await produce('clinical.identity.events', 'IdentityEvent', 'EP-REVIEW-1', {
      eventId: 'e2e-review-resolved-1', correlationId: 'e2e-review-1', type: 'REVIEW_RESOLVED', epid: 'EP-REVIEW-1', otherEpid: 'EP-REVIEW-2', recordKey: 'rk-1', method: 'steward', score: null, reviewItemId: 'review-item-1', resolution: 'kept-apart', at: Date.now(),
    });
    await produce('clinmesh.operations.events', 'OperationsEvent', 'dl-1', {
      eventId: 'e2e-redriven-1', correlationId: 'e2e-dl-1', kind: 'REDRIVEN', service: 'normalization', consumerGroup: 'normalization.urgent', deadLetterId: 'dl-1', topic: null, partition: null, offset: null, sourceEventId: 'src-1', errorCode: null, errorMessage: null, actor: 'ops-1', at: Date.now(),
    });
    const { etag } = await getTask(btg.taskId);
    const reviewed = await post(btg.taskId, 'transitions', { to: 'justified', finding: 'access was clinically necessary' }, etag);
    assert.equal(reviewed.status, 200, reviewed.text);
    assert.equal(reviewed.json().status, 'completed');
    const closed = await waitFor(async () => {
      const [r, d] = await Promise.all([getTask(review.taskId), getTask(dl.taskId)]);
      return r.task.status === 'completed' && d.task.status === 'completed' ? [r.task, d.task] : undefined;
    }, { what: 'identity review and dead-letter tasks closed by their events', timeoutMs: 60000 });
    assert.deepEqual([closed[0].state, closed[0].businessStatus], ['resolved', 'decided-in-empi']);
    assert.equal(closed[0].history.at(-1).reason, 'kept-apart');
    assert.deepEqual([closed[1].state, closed[1].history.at(-1).actor], ['redriven', 'ops-1']);
  });

  it('a corrected result updates the same task and records the change; a replay of policy creates no task', async () => {
    const first = await pipeline.sendHl7(potassium({ controlId: 'K-CORR-1', mrn: 'MRN-K-CORR', filler: 'KCORR', value: '6.8' }));
    const task = await taskFor({ correlationId: first.messageId!, workflow: 'critical-result-review' });
    const corrected = await pipeline.sendHl7(potassium({ controlId: 'K-CORR-2', mrn: 'MRN-K-CORR', filler: 'KCORR', value: '7.2', corrected: true }));
    assert.equal(corrected.status, 200);
    const updated = await waitFor(async () => {
      const { task: t } = await getTask(task.taskId);
      return t.history.some((h: { action: string }) => h.action === 'correct') ? t : undefined;
    }, { what: 'the correction recorded on the task', timeoutMs: 120000 });
    assert.match(updated.finding, /7\.2/);
    const correction = updated.history.find((h: { action: string }) => h.action === 'correct');
    assert.match(correction.details.previousFinding, /6\.8/);
    assert.equal((await pipeline.tasks({ correlationId: corrected.messageId! })).length, 0, 'no second task for the corrected result');
    const [{ n: forRecord }] = await pipeline.query('task', `SELECT count(*)::int AS n FROM tk_task WHERE workflow = 'critical-result-review' AND canonical_id = $1`, [task.canonicalId]);
    assert.equal(forRecord, 1);
    // The history row commits with the outbox row; the event reaches our reader a moment later.
    await waitFor(() => eventsOf(task.taskId, 'UPDATED').find((e) => e.correction === true), { what: 'an UPDATED task event marked as a correction', timeoutMs: 30000 });

    const [{ n: before }] = await pipeline.query('task', 'SELECT count(*)::int AS n FROM tk_task');
    const duplicatesBefore = await pipeline.metric('task', 'clinmesh_events_consumed_total', { tier: 'stat', outcome: 'duplicate' });
    const [{ n: routedStat }] = await pipeline.query('task', `SELECT count(*)::int AS n FROM cm_inbox WHERE consumer_group = 'task.stat'`);
    const replay = await pipeline.request('policy', 'POST', '/v1/admin/replay', { tier: 'stat', to: 'earliest' });
    assert.equal(replay.status, 201, replay.text);
    await waitFor(async () => (await pipeline.metric('task', 'clinmesh_events_consumed_total', { tier: 'stat', outcome: 'duplicate' })) - duplicatesBefore >= routedStat,
      { what: 'task to see every replayed routed event as a duplicate', timeoutMs: 180000, intervalMs: 500 });
    const [{ n: afterReplay }] = await pipeline.query('task', 'SELECT count(*)::int AS n FROM tk_task');
    assert.equal(afterReplay, before);
  });

  it('an A40 merge moves open tasks to the surviving EPID; the unmerge moves them back', async () => {
    const prior = await pipeline.sendHl7(adtMessage({ controlId: 'T-A40-PRIOR', mrn: '56789', family: 'OLDNAME', given: 'PRIORA', birthDate: '20170101' }).replace('^^^TESTHOSP^MR', '^^^BCBS^MR'));
    const survivor = await pipeline.sendHl7(adtMessage({ controlId: 'T-A40-SURV', mrn: '12345', family: 'Test', given: 'Test', birthDate: '20180205' }).replace('^^^TESTHOSP^MR', '^^^BCBS^MR'));
    const priorTask = await taskFor({ correlationId: prior.messageId! });
    const survivorTask = await taskFor({ correlationId: survivor.messageId! });
    assert.notEqual(priorTask.epid, survivorTask.epid);
    const a40 = await pipeline.sendHl7(readFileSync(join(FIXTURES, 'ADT-A40-01.hl7'), 'utf8'));
    assert.equal(a40.status, 200, a40.ack);
    const moved = await waitFor(async () => { const { task } = await getTask(priorTask.taskId); return task.epid === survivorTask.epid ? task : undefined; },
      { what: 'the open task to follow the surviving EPID', timeoutMs: 120000 });
    assert.equal(moved.mergedFromEpid, priorTask.epid);
    assert.equal(moved.history.at(-1).action, 'merge');
    assert.ok((await pipeline.tasks({ patient: survivorTask.epid })).some((t) => t.taskId === priorTask.taskId));
    const merged = await waitFor(() => eventsOf(priorTask.taskId, 'UPDATED').find((e) => e.previousEpid === priorTask.epid), { what: 'UPDATED task event keyed by the survivor', timeoutMs: 30000 });
    assert.equal(merged.epid, survivorTask.epid);

    const unmerge = await pipeline.request('identity-resolution', 'POST', `/v1/persons/${survivorTask.epid}/unmerge`, { recordIds: [sourcePatientKey(pipeline.env.patientKeySecret, 'BCBS', '56789')] });
    assert.equal(unmerge.status, 200, unmerge.text);
    await waitFor(async () => (await getTask(priorTask.taskId)).task.epid === priorTask.epid, { what: 'the unmerge to restore the task', timeoutMs: 120000 });
  });

  it('an SLA timer that falls due while the task service is SIGKILLed fires exactly once after it restarts', async () => {
    const adt = await pipeline.sendHl7(adtMessage({ controlId: 'TASK-KILL-1', mrn: 'MRN-KILL-1' }));
    const created = await taskFor({ correlationId: adt.messageId! });
    const { task } = await getTask(created.taskId);
    const dueAt = Date.parse(task.escalation.nextAt);
    assert.ok(dueAt > Date.now() + 2000, `the timer is still ahead when the service is killed (due ${task.escalation.nextAt})`);
    await pipeline.processes.task.kill('SIGKILL');
    await waitFor(() => Date.now() > dueAt + 1000, { what: 'the timer to fall due while the service is down', timeoutMs: 180000, intervalMs: 200 });
    pipeline.processes.task.start();
    await pipeline.waitReady(['task']);
    await waitFor(() => eventsOf(created.taskId, 'ESCALATED')[0], { what: 'the overdue timer to fire after the restart', timeoutMs: 60000 });
    // Watermark: a later change of the same task (same key, same partition) comes after any duplicate of the escalation.
    const { etag } = await getTask(created.taskId);
    const claimed = await post(created.taskId, 'transitions', { to: 'claimed' }, etag);
    assert.equal(claimed.status, 200, claimed.text);
    await waitFor(() => eventsOf(created.taskId).find((e) => e.transition === 'claim'), { what: 'the claim event after the escalation', timeoutMs: 30000 });
    assert.equal(new Set(eventsOf(created.taskId, 'ESCALATED').map((e) => e.eventId)).size, 1, 'one escalation event');
    const [{ n }] = await pipeline.query('task', `SELECT count(*)::int AS n FROM tk_task_history WHERE task_id = $1 AND action = 'escalate'`, [created.taskId]);
    assert.equal(n, 1, 'the rung fired once');
  });
});
