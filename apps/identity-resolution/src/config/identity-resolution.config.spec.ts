import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MATCH_CONFIG } from '@clinmesh/empi';
import { DEFAULT_IDENTITY_CHUNK_SIZE, createMasterPatientIndex, loadIdentityResolutionConfig } from './identity-resolution.config';

const from = (vars: Record<string, string>) => (name: string) => vars[name];

describe('identity-resolution config', () => {
  it('defaults: empi thresholds and the default chunk size', () => {
    const config = loadIdentityResolutionConfig(from({}));
    assert.deepEqual(config, { matchUpper: undefined, matchLower: undefined, chunkSize: DEFAULT_IDENTITY_CHUNK_SIZE });
    assert.deepEqual(createMasterPatientIndex(config).config.thresholds, DEFAULT_MATCH_CONFIG.thresholds);
  });

  it('thresholds and chunk size from the environment; one threshold alone keeps the other default, the lower never above the upper', () => {
    const config = loadIdentityResolutionConfig(from({ MATCH_UPPER: '20', CHUNK_SIZE: '100' }));
    assert.equal(config.chunkSize, 100);
    assert.deepEqual(createMasterPatientIndex(config).config.thresholds, { upper: 20, lower: DEFAULT_MATCH_CONFIG.thresholds.lower });
    const low = createMasterPatientIndex(loadIdentityResolutionConfig(from({ MATCH_UPPER: '2' })));
    assert.deepEqual(low.config.thresholds, { upper: 2, lower: 2 });
  });

  it('lists every problem at once and refuses to start', () => {
    assert.throws(
      () => loadIdentityResolutionConfig(from({ MATCH_UPPER: 'high', MATCH_LOWER: '3', CHUNK_SIZE: '0' })),
      (e: Error) => /IDENTITY_RESOLUTION_MATCH_UPPER must be a number/.test(e.message) && /IDENTITY_RESOLUTION_CHUNK_SIZE must be an integer between 1 and 1000/.test(e.message),
    );
    assert.throws(() => loadIdentityResolutionConfig(from({ MATCH_UPPER: '4', MATCH_LOWER: '9' })), /MATCH_LOWER \(9\) must not exceed/);
  });
});
