import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANALYTICS_SINK_DEFAULTS, loadAnalyticsSinkConfig } from './analytics-sink.config';

describe('analytics-sink config', () => {
  const from = (vars: Record<string, string>) => (name: string) => vars[name];

  it('defaults to what the generator was asked for', () => {
    assert.deepEqual(loadAnalyticsSinkConfig(from({})), ANALYTICS_SINK_DEFAULTS);
  });

  it('switches topics and tiers', () => {
    assert.deepEqual(loadAnalyticsSinkConfig(from({ TOPICS: 'deidentified', TIERS: 'bulk, stat' })), { topics: 'deidentified', tiers: ['bulk', 'stat'] });
  });

  it('refuses to start with every problem listed', () => {
    assert.throws(() => loadAnalyticsSinkConfig(from({ TOPICS: 'raw', TIERS: 'stat,asap' })), (e: Error) => /ANALYTICS_SINK_TOPICS/.test(e.message) && /ANALYTICS_SINK_TIERS/.test(e.message));
  });
});
