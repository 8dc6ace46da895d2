import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { AccessTokens } from '@clinmesh/security';
import { TestPipeline, WebhookReceiver, oruMessage, waitFor } from '@clinmesh/testing';

/**
 * Issue 13 through the real pipeline: an HL7 ORU with a critical potassium
 * sent to ingest reaches, through identity, normalization, policy (one routed
 * view per permitted audience) and task, a Standard Webhooks subscriber bound
 * to the on-call audience and a FHIR Subscription to the critical-result topic.
 */
describe('notifier through the whole pipeline: HL7 critical potassium → routed view webhook and FHIR id-only notification', { timeout: 600_000 }, () => {
  let pipeline: TestPipeline;
  const webhook = new WebhookReceiver('unset');
  const fhir = new WebhookReceiver('unset', { path: '/fhir-hook' });

  before(async () => {
    pipeline = await TestPipeline.start('notifier-pipeline');
    await webhook.start();
    await fhir.start();
  });
  after(async () => {
    await webhook.stop();
    await fhir.stop();
    await pipeline?.stop();
  });

  it('delivers the on-call audience its own projected view, signed, and notifies the FHIR subscriber with event 1', async () => {
    const sub = await pipeline.request('notifier', 'POST', '/v1/subscriptions', {
      url: webhook.url, audience: 'critical-result-oncall', purposeOfUse: 'TREAT', events: ['routed'], name: 'on-call pager',
    });
    assert.equal(sub.status, 201, sub.text);
    const secret = sub.json().secret as string;
    webhook.useSecret(secret);

    const token = await new AccessTokens(pipeline.env.authSecret).issue('oncall-app', ['subscriptions:write', 'subscriptions:read'], 3600, 'oncall-app', { audience: 'critical-result-oncall', purposeOfUse: 'TREAT' });
    const created = await fetch(`${pipeline.urls.notifier}/fhir/Subscription`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Subscription', status: 'requested', reason: 'critical results', criteria: 'https://clinmesh.org/fhir/SubscriptionTopic/critical-result',
        channel: { type: 'rest-hook', endpoint: fhir.url, payload: 'application/fhir+json' },
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const param = (b: Record<string, any>, name: string) => b.entry[0].resource.parameter.find((p: { name: string }) => p.name === name);
    await waitFor(() => fhir.deliveries.find((d) => param(d.body, 'type')?.valueCode === 'handshake'), { what: 'FHIR handshake', timeoutMs: 60_000 });

    const message = oruMessage({ controlId: 'K-CRIT-0001', mrn: 'MRN-K-CRIT-1', flag: 'HH', value: '6.9' })
      .replace(/2345-7\^Glucose\^LN/g, '2823-3^Potassium^LN').replace('mg/dL', 'mmol/L').replace('70-99', '3.5-5.1');
    const sent = await pipeline.sendHl7(message);
    assert.equal(sent.status, 200, sent.ack);
    const correlationId = sent.messageId!;

    const view = await waitFor(() => webhook.byCorrelation(correlationId).find((d) => d.type?.startsWith('routed.')), { what: 'routed view webhook', timeoutMs: 120_000 });
    assert.ok(new Webhook(secret).verify(view.raw, view.headers as Record<string, string>), 'signature verifies with standardwebhooks');
    const data = view.body as { audience: string; purposeOfUse: string; decisionId: string; critical: boolean; canonical: { resourceType: string; canonicalId: string } };
    assert.equal(data.audience, 'critical-result-oncall');
    assert.equal(data.purposeOfUse, 'TREAT');
    assert.ok(data.decisionId, 'the decision the view was permitted under');
    assert.equal(data.critical, true);
    assert.equal(webhook.byCorrelation(correlationId).filter((d) => d.type?.startsWith('routed.')).length, 1, 'only the on-call audience\'s own view, once');

    const note = await waitFor(() => fhir.deliveries.find((d) => param(d.body, 'type')?.valueCode === 'event-notification'), { what: 'FHIR notification', timeoutMs: 60_000 });
    const event = param(note.body, 'notification-event').part;
    assert.equal(event.find((p: { name: string }) => p.name === 'event-number').valueString, '1');
    const focus = event.find((p: { name: string }) => p.name === 'focus').valueReference.reference as string;
    assert.ok(focus.endsWith(`/${data.canonical.resourceType}/${data.canonical.canonicalId}`), `${focus} names the canonical record`);

    // The subscriber has the requests before the notifier's bookkeeping commits: wait for the receipts.
    await waitFor(async () => {
      const receipts = await pipeline.request('notifier', 'GET', `/v1/deliveries?correlationId=${encodeURIComponent(correlationId)}`);
      const list = receipts.json().deliveries as Array<{ status: string }>;
      return list.length === 2 && list.every((d) => d.status === 'delivered');
    }, { what: 'both deliveries recorded as delivered', timeoutMs: 30_000 });
  });
});
