import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceConfig } from '@clinmesh/service-kit';
import { allowlisted } from '../domain/address-guard';
import { DEFAULT_RETRY_SCHEDULE_MS } from '../domain/retry-schedule';
import { loadNotifierConfig } from './notifier.config';

const serviceConfig = (vars: Record<string, string>, mode: 'mock' | 'none' = 'none'): ServiceConfig =>
  ({ http: { host: '127.0.0.1', port: 8086 }, authSecret: 'x'.repeat(32), topicProvisioning: mode === 'mock' ? { mode, controlUrl: 'http://c' } : { mode }, env: (n: string) => vars[n] }) as unknown as ServiceConfig;

describe('notifier config', () => {
  it('defaults: the Standard Webhooks schedule, 15 s timeout, 5-day disable; loopback allowlisted only on the embedded platform', () => {
    const c = loadNotifierConfig(serviceConfig({}));
    assert.deepEqual(c.delivery.retryScheduleMs, DEFAULT_RETRY_SCHEDULE_MS);
    assert.equal(c.delivery.timeoutMs, 15_000);
    assert.equal(c.disableAfterMs, 5 * 24 * 3600_000);
    assert.equal(allowlisted(c.ssrf.allowlist, '127.0.0.1', 80), false, 'production: nothing allowlisted');
    const embedded = loadNotifierConfig(serviceConfig({}, 'mock'));
    assert.equal(allowlisted(embedded.ssrf.allowlist, '127.0.0.1', 80), true);
    assert.equal(allowlisted(embedded.ssrf.allowlist, '10.0.0.1', 80), false);
    assert.equal(loadNotifierConfig(serviceConfig({ WEBHOOK_ALLOWLIST: 'none' }, 'mock')).ssrf.allowlist.length, 0);
    assert.equal(c.fhir.subscriptionBaseUrl, 'http://127.0.0.1:8086/fhir', 'its own address unless told otherwise');
    assert.equal(loadNotifierConfig(serviceConfig({ PUBLIC_BASE_URL: 'https://fhir.example.org/notify' })).fhir.subscriptionBaseUrl, 'https://fhir.example.org/notify');
  });
  it('lists every problem at once', () => {
    assert.throws(() => loadNotifierConfig(serviceConfig({ RETRY_SCHEDULE: 'soon', DELIVERY_TIMEOUT_MS: '0', WEBHOOK_ALLOWLIST: 'example.org', BREAKER_OPEN_MS: 'x' })), (e: Error) => {
      for (const n of ['NOTIFIER_RETRY_SCHEDULE', 'NOTIFIER_DELIVERY_TIMEOUT_MS', 'NOTIFIER_WEBHOOK_ALLOWLIST', 'NOTIFIER_BREAKER_OPEN_MS']) assert.ok(e.message.includes(n), `${n} in ${e.message}`);
      return true;
    });
  });
});
