import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventContext, EventOrigin, EventRuntime, UnitOfWork, eventContext } from '@clinmesh/event-runtime';
import { loadPolicyFiles } from '../adapters/files/policy-files';
import { PolicyAdmin } from './policy-admin';
import { PolicyStore } from './policy-store';
import type { PolicyStores } from './ports';

const files = loadPolicyFiles(`${process.cwd()}/apps/policy/policy`);

/**
 * The version table in memory, with a gate on reads: a test holds the replica follow inside its read while
 * an operator's change commits, which is the interleaving a timer and an HTTP request produce.
 */
function versionTable() {
  let active = { version: files.policy.version, document: files.policy.set as unknown, source: 'shipped', activatedAt: new Date().toISOString() };
  let candidate: { version: string; document: unknown } | undefined;
  let gate: Promise<void> | undefined;
  const read = async <T>(value: () => T) => { const seen = value(); await gate; return seen; };
  const versions = {
    active: () => read(() => active),
    candidate: () => read(() => candidate),
    known: async (v: string) => v === active.version,
    activate: async (version: string, document: unknown, source: string) => {
      active = { version, document, source, activatedAt: new Date().toISOString() };
      if (candidate?.version === version) candidate = undefined;
    },
    saveCandidate: async (version: string, document: unknown) => { candidate = { version, document }; },
    discardCandidate: async () => { candidate = undefined; },
  };
  const hold = () => { let open!: () => void; gate = new Promise<void>((r) => { open = r; }); return () => { gate = undefined; open(); }; };
  return { versions, hold, setActive: (v: typeof active) => { active = v; } };
}

function admin() {
  const table = versionTable();
  const store = new PolicyStore(files.validator, files.policy, files.identifierSystems);
  const runtime = {
    inTransaction: async <T>(origin: EventOrigin, work: (ctx: EventContext) => Promise<T>) => work(eventContext({} as UnitOfWork, origin, [] as never)),
  } as unknown as EventRuntime;
  const policyAdmin = new PolicyAdmin(runtime, store, () => ({ versions: table.versions }) as unknown as PolicyStores);
  const candidateDocument = { ...(files.policy.set as object), version: `${files.policy.version}-candidate` };
  return { table, store, policyAdmin, candidateDocument };
}

describe('policy versions: the replica follow never undoes a newer change made here', () => {
  it('a promotion committed while the follow was reading stays in force', async () => {
    const { table, store, policyAdmin, candidateDocument } = admin();
    await policyAdmin.loadCandidate(candidateDocument, 'tester');
    const release = table.hold();
    const following = policyAdmin.follow({ query: async () => [] });
    await policyAdmin.promote('tester', candidateDocument.version);
    release();
    assert.deepEqual(await following, { active: null, candidate: undefined }, 'the stale reading is not applied');
    assert.equal(store.active.version, candidateDocument.version);
    assert.equal(store.candidate, null);
    assert.deepEqual(await policyAdmin.follow({ query: async () => [] }), { active: null, candidate: undefined }, 'the next follow agrees with the database');
  });

  it('a candidate loaded while the follow was reading is kept', async () => {
    const { table, store, policyAdmin, candidateDocument } = admin();
    const release = table.hold();
    const following = policyAdmin.follow({ query: async () => [] });
    await policyAdmin.loadCandidate(candidateDocument, 'tester');
    release();
    await following;
    assert.equal(store.candidate?.version, candidateDocument.version);
  });

  it('an activation through another replica is taken over', async () => {
    const { table, store, policyAdmin, candidateDocument } = admin();
    table.setActive({ version: candidateDocument.version, document: candidateDocument, source: 'another replica', activatedAt: new Date().toISOString() });
    assert.deepEqual(await policyAdmin.follow({ query: async () => [] }), { active: candidateDocument.version, candidate: undefined });
    assert.equal(store.active.version, candidateDocument.version);
  });
});
