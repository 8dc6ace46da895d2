import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { embeddedBrokerCount } from './mock-cluster.launcher';

describe('embedded cluster broker count', () => {
  it('is one unless CLINMESH_EMBEDDED_KAFKA_BROKERS asks for more', () => {
    assert.equal(embeddedBrokerCount({}), 1);
    assert.equal(embeddedBrokerCount({ CLINMESH_EMBEDDED_KAFKA_BROKERS: '' }), 1);
    assert.equal(embeddedBrokerCount({ CLINMESH_EMBEDDED_KAFKA_BROKERS: '3' }), 3);
  });

  it('refuses a count that is not a whole number of brokers from 1 to 9', () => {
    for (const bad of ['0', '-1', '2.5', 'three', '10']) {
      assert.throws(() => embeddedBrokerCount({ CLINMESH_EMBEDDED_KAFKA_BROKERS: bad }), /CLINMESH_EMBEDDED_KAFKA_BROKERS must be an integer from 1 to 9/);
    }
  });
});
