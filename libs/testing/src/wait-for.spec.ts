import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './test-environment';

describe('waitFor', () => {
  it('returns the first truthy value of the probe', async () => {
    let calls = 0;
    assert.equal(await waitFor(() => (++calls >= 3 ? `after ${calls}` : false), { intervalMs: 1 }), 'after 3');
  });

  it("on timeout says what it waited for, the probe's last error and, when asked, the state", async () => {
    await assert.rejects(
      waitFor(() => { throw new Error('no such task'); }, { timeoutMs: 20, intervalMs: 1, what: 'a task', explain: async () => 'policy: nothing in its outbox' }),
      { message: 'timed out waiting for a task: no such task — policy: nothing in its outbox' },
    );
    await assert.rejects(
      waitFor(() => false, { timeoutMs: 20, intervalMs: 1, explain: async () => { throw new Error('database gone'); } }),
      { message: 'timed out waiting for condition — (explaining failed: database gone)' },
    );
  });
});
