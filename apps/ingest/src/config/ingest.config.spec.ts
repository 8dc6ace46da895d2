import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceConfig } from '@clinmesh/service-kit';
import { loadIngestConfig } from './ingest.config';

const serviceConfig = (vars: Record<string, string>): ServiceConfig =>
  ({ http: { host: '127.0.0.1', port: 8080 }, env: (name: string) => vars[name] }) as unknown as ServiceConfig;

describe('ingest config', () => {
  it('has embedded defaults for every setting', () => {
    const c = loadIngestConfig(serviceConfig({}));
    assert.equal(c.maxMessageBytes, 2 * 1024 * 1024);
    assert.deepEqual(
      { ...c.mllp, tls: undefined },
      { port: 2575, host: '127.0.0.1', idleTimeoutMs: 300_000, frameTimeoutMs: 60_000, maxConnections: 500, maxConnectionsPerSource: 100, closeGraceMs: 10_000, tls: undefined },
    );
    assert.equal(c.intakeClosedRetryAfterSeconds, 30);
    assert.equal(c.fhirRequiredElements, 'warning');
    assert.equal(c.allowedSenders, undefined);
    assert.deepEqual(c.bulkIntakePacing, { share: 0.1, withinMs: 1000, maxPauseMs: 1000, chunkSize: 10 });
  });

  it('reads bulk intake pacing; a share of 1 turns it off, 0 is refused', () => {
    assert.equal(loadIngestConfig(serviceConfig({ BULK_SHARE: '1' })).bulkIntakePacing.share, 1);
    assert.equal(loadIngestConfig(serviceConfig({ BULK_PACED_GROUP_SIZE: '4' })).bulkIntakePacing.chunkSize, 4);
    assert.throws(() => loadIngestConfig(serviceConfig({ BULK_PACED_GROUP_SIZE: '0' })), /INGEST_BULK_PACED_GROUP_SIZE/);
    assert.throws(() => loadIngestConfig(serviceConfig({ BULK_SHARE: '0' })), /INGEST_BULK_SHARE/);
    assert.throws(() => loadIngestConfig(serviceConfig({ BULK_SHARE: '1.5' })), /INGEST_BULK_SHARE/);
  });

  it('reads the MLLP limits', () => {
    const c = loadIngestConfig(serviceConfig({ MLLP_FRAME_TIMEOUT_MS: '1500', MLLP_MAX_CONNECTIONS_PER_SOURCE: '0', MLLP_MAX_CONNECTIONS: '20', ALLOWED_SENDERS: 'A, B' }));
    assert.equal(c.mllp.frameTimeoutMs, 1500);
    assert.equal(c.mllp.maxConnectionsPerSource, 0, '0 switches the per-source cap off');
    assert.equal(c.mllp.maxConnections, 20);
    assert.deepEqual([...c.allowedSenders!], ['A', 'B']);
  });

  it('lists every problem at once', () => {
    assert.throws(
      () => loadIngestConfig(serviceConfig({
        MLLP_FRAME_TIMEOUT_MS: '-1', MLLP_MAX_CONNECTIONS_PER_SOURCE: 'many', MAX_MESSAGE_BYTES: '0', FHIR_REQUIRED_ELEMENTS: 'sometimes',
        RATE_LIMIT_PER_SECOND: 'fast', MLLP_TLS_KEY_FILE: '/nonexistent/key.pem',
      })),
      (e: Error) => {
        for (const name of ['INGEST_MLLP_FRAME_TIMEOUT_MS', 'INGEST_MLLP_MAX_CONNECTIONS_PER_SOURCE', 'INGEST_MAX_MESSAGE_BYTES', 'INGEST_FHIR_REQUIRED_ELEMENTS', 'INGEST_MLLP_TLS_KEY_FILE', 'INGEST_MLLP_TLS_CERT_FILE']) {
          assert.ok(e.message.includes(name), `${name} in: ${e.message}`);
        }
        assert.match(e.message, /must be a non-negative number/, 'rate limit problems too');
        return true;
      },
    );
  });
});
