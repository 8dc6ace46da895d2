import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Response } from 'express';
import type { EventRuntime } from '@clinmesh/event-runtime';
import { HealthController, ServiceStartup } from './health.controller';

/** The runtime's own readiness is fixed here: what is under test is how the service's start-up joins it. */
function runtimeReady(ready: boolean): EventRuntime {
  return { readiness: async () => ({ ready, checks: { database: { ok: ready } } }) } as unknown as EventRuntime;
}

async function probe(controller: HealthController): Promise<{ status: number; body: any }> {
  const answer = { status: 0, body: undefined as any };
  const res = {
    status(code: number) {
      answer.status = code;
      return this;
    },
    json(body: unknown) {
      answer.body = body;
      return this;
    },
  } as unknown as Response;
  await controller.ready(res);
  return answer;
}

describe('HealthController readiness', () => {
  it('is not ready until the service finished starting (its listeners are up), even when the runtime is', async () => {
    const startup = new ServiceStartup();
    const controller = new HealthController(runtimeReady(true), startup);
    const before = await probe(controller);
    assert.equal(before.status, 503);
    assert.deepEqual(before.body.checks.startup, { ok: false });
    startup.complete = true;
    const after = await probe(controller);
    assert.equal(after.status, 200);
    assert.equal(after.body.status, 'ready');
  });

  it('is not ready while the runtime is not, start-up complete or not', async () => {
    const startup = new ServiceStartup();
    startup.complete = true;
    const answer = await probe(new HealthController(runtimeReady(false), startup));
    assert.equal(answer.status, 503);
    assert.equal(answer.body.checks.database.ok, false);
  });
});
