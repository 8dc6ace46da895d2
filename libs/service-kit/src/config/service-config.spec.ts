import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadServiceConfig } from './service-config';

const base = {
  CLINMESH_RUNTIME_FILE: '/nonexistent/runtime.json',
  KAFKA_BROKERS: 'k1:9092, k2:9092',
  SCHEMA_REGISTRY_URL: 'http://registry:8081',
  TASK_DATABASE_URL: 'postgres://u:p@db/task',
  CLINMESH_AUTH_SECRET: 'x'.repeat(32),
  CLINMESH_PATIENT_KEY_SECRET: 'y'.repeat(16),
};

describe('service config', () => {
  it('reads shared and prefixed variables with defaults', () => {
    const c = loadServiceConfig('task', 8085, { ...base, TASK_HTTP_PORT: '9000', TASK_DB_POOL_SIZE: '7', SCHEMA_REGISTRY_BASIC_AUTH: 'u:p:w' });
    assert.deepEqual(c.kafka.brokers, ['k1:9092', 'k2:9092']);
    assert.equal(c.http.port, 9000);
    assert.equal(c.env('DB_POOL_SIZE'), '7');
    assert.deepEqual(c.registry.auth, { username: 'u', password: 'p:w' });
    assert.equal(c.topicProvisioning.mode, 'none', 'real deployments do not create topics unless told to');
    assert.equal(c.consumer.sessionTimeoutMs, 30000);
  });
  it('reports every problem at once and refuses to start', () => {
    assert.throws(() => loadServiceConfig('task', 8085, { CLINMESH_RUNTIME_FILE: '/nonexistent', TASK_HTTP_PORT: 'eighty', KAFKA_SASL_MECHANISM: 'gssapi' }), (e: Error & { details: { errors: string[] } }) => {
      const errors = e.details.errors.join('\n');
      for (const needle of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'TASK_DATABASE_URL', 'CLINMESH_AUTH_SECRET', 'CLINMESH_PATIENT_KEY_SECRET', 'TASK_HTTP_PORT', 'KAFKA_SASL_MECHANISM']) {
        assert.ok(errors.includes(needle), `missing complaint about ${needle}`);
      }
      return true;
    });
  });
  it('configures TLS/SASL for a real cluster and admin-API topic creation by configuration only', () => {
    const c = loadServiceConfig('task', 8085, { ...base, KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'pw', CLINMESH_TOPIC_PROVISIONING: 'admin', CLINMESH_TOPIC_REPLICATION_FACTOR: '3' });
    assert.deepEqual(c.kafka.sasl, { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' });
    assert.ok(c.kafka.ssl);
    assert.deepEqual(c.topicProvisioning, { mode: 'admin', replicationFactor: 3 });
  });
});
