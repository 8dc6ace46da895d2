import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidPersonRecordError } from '../empi.errors';
import { InMemoryCandidateStore } from '../store/in-memory-candidate.store';
import { MatchEngine } from './match.engine';
import type { PersonRecord } from '../record/person-record.model';

const base: Omit<PersonRecord, 'recordId'> = {
  givenName: 'Kirra', familyName: 'Menzies', birthDate: '1994-09-15', sex: 'F', phone: '02 6123 4567',
  address: { streetNumber: '21', street: 'Woralul Street', suburb: 'Orford', postcode: '2615', state: 'NSW' },
};

function engine(config = {}) {
  let n = 0;
  const store = new InMemoryCandidateStore();
  return { store, engine: new MatchEngine({ store, config, personIdGenerator: () => `P${++n}` }) };
}

describe('MatchEngine', () => {
  it('a first record opens a new person from the injected generator', async () => {
    const { engine: e } = engine();
    const r = await e.match({ recordId: 'a|h|1', ...base });
    assert.equal(r.decision, 'new');
    assert.equal(r.method, 'new');
    assert.equal(r.personId, 'P1');
    assert.deepEqual(r.contributions, []);
  });

  it('same assigning authority + MRN links deterministically, whatever the demographics say', async () => {
    const { engine: e } = engine();
    await e.match({ recordId: 'adt|hosp|42', identifiers: [{ system: 'hosp', value: '42', type: 'MR' }], ...base });
    const r = await e.match({ recordId: 'lab|hosp|42', identifiers: [{ system: 'hosp', value: '42', type: 'MR' }], givenName: 'Totally', familyName: 'Different' });
    assert.equal(r.decision, 'link');
    assert.equal(r.method, 'deterministic-identifier');
    assert.equal(r.personId, 'P1');
  });

  it('a re-sent record id keeps its person', async () => {
    const { engine: e, store } = engine();
    await e.match({ recordId: 'adt|hosp|7', ...base });
    const r = await e.match({ recordId: 'adt|hosp|7', givenName: 'Renamed' });
    assert.equal(r.method, 'deterministic-identifier');
    assert.equal(r.personId, 'P1');
    assert.equal(store.size, 1);
  });

  it('a trusted identifier links only when the date of birth agrees', async () => {
    const ssn = [{ system: 'ssa', value: '123456789', type: 'SS' }];
    const { engine: e } = engine();
    await e.match({ recordId: 'a|x|1', identifiers: ssn, givenName: 'Ann', familyName: 'Lee', birthDate: '1970-01-01' });
    const agree = await e.match({ recordId: 'b|x|1', identifiers: ssn, givenName: 'Bob', familyName: 'Stone', birthDate: '1970-01-01' });
    assert.equal(agree.method, 'trusted-identifier');
    assert.equal(agree.personId, 'P1');
    const disagree = await e.match({ recordId: 'c|x|1', identifiers: ssn, givenName: 'Carl', familyName: 'Ng', birthDate: '1988-06-30' });
    assert.notEqual(disagree.method, 'trusted-identifier');
    assert.notEqual(disagree.personId, 'P1');
    const noDob = await e.match({ recordId: 'd|x|1', identifiers: ssn, givenName: 'Dee', familyName: 'Oak' });
    assert.notEqual(noDob.method, 'trusted-identifier');
  });

  it('thresholds: ≥ upper links, between opens a provisional person with a review item, below opens a new person', async () => {
    const { engine: e } = engine({ thresholds: { upper: 30, lower: 10 } });
    await e.match({ recordId: 's|1', ...base });
    const strong = await e.match({ recordId: 's|2', ...base, givenName: 'Kira' });
    assert.equal(strong.decision, 'link');
    assert.equal(strong.method, 'probabilistic');
    assert.ok(strong.score >= 30);
    assert.equal(strong.personId, 'P1');
    assert.equal(strong.bestCandidate?.personId, 'P1');
    assert.ok(strong.contributions.some((c) => c.field === 'givenName' && c.level === 'jw>=0.92' && c.weight > 0));

    const medium = await e.match({ recordId: 's|3', givenName: 'Kirra', familyName: 'Menzies', birthDate: '1994' });
    assert.equal(medium.decision, 'review');
    assert.ok(medium.score >= 10 && medium.score < 30, `score ${medium.score}`);
    assert.equal(medium.personId, 'P2');
    assert.deepEqual(medium.reviewItem, {
      recordId: 's|3', provisionalPersonId: 'P2', candidatePersonId: 'P1', candidateRecordId: medium.bestCandidate!.recordId,
      candidatePersonIds: ['P1'], score: medium.score, thresholds: { upper: 30, lower: 10 },
    });
    assert.equal(medium.explanation.decision, 'review');
    assert.equal(medium.explanation.candidates[0].personId, 'P1');

    const weak = await e.match({ recordId: 's|4', givenName: 'Mary', familyName: 'Menzie', birthDate: '1961-02-03', address: { postcode: '2615' } });
    assert.equal(weak.decision, 'new');
    assert.equal(weak.personId, 'P3');
    assert.ok(weak.score < 10);
  });

  it('person-level: links to the person whose best record scores highest', async () => {
    const { engine: e, store } = engine();
    await e.match({ recordId: 'p|1', ...base });
    // Different person sharing the household address.
    await e.match({ recordId: 'p|2', ...base, givenName: 'Lachlan', birthDate: '1960-02-19', sex: 'M' });
    const r = await e.match({ recordId: 'p|3', ...base, phone: undefined, address: { ...base.address, streetNumber: '12' } });
    assert.equal(r.decision, 'link');
    assert.equal(r.personId, store.personOf('p|1'));
    assert.notEqual(r.personId, store.personOf('p|2'));
  });

  it('preview decides without saving; compare explains a pair', async () => {
    const { engine: e, store } = engine();
    await e.match({ recordId: 'v|1', ...base });
    const r = await e.preview({ recordId: 'v|2', ...base });
    assert.equal(r.decision, 'link');
    assert.equal(store.size, 1);
    const cmp = e.compare({ recordId: 'x', ...base }, { recordId: 'y', ...base, birthDate: undefined });
    assert.equal(cmp.contributions.find((c) => c.field === 'birthDate')?.weight, 0);
  });

  it('never auto-links a household member: shared address and phone cannot outweigh a different surname and birth date', async () => {
    const { engine: e } = engine();
    await e.match({ recordId: 'a|h|1', ...base, middleName: 'Jane' });
    const sister = await e.match({ recordId: 'b|h|2', ...base, middleName: 'Jane', familyName: 'Okafor', birthDate: '1961-02-03' });
    assert.notEqual(sister.decision, 'link', `score ${sister.score} must not link`);
    const same = await e.match({ recordId: 'c|h|3', ...base, middleName: 'Jane' });
    assert.equal(same.decision, 'link', 'the same person at that address still links');
  });

  it('rejects a record without recordId with a ClinmeshError', async () => {
    const { engine: e } = engine();
    await assert.rejects(e.match({ recordId: '' }), InvalidPersonRecordError);
  });
});
