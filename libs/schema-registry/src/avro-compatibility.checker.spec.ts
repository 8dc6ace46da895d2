import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkAvroCompatibility, CompatibilityLevel } from './avro-compatibility.checker';
import { InvalidAvroSchemaError, parseAvroSchema, schemaFingerprint } from './avro-schema.parser';

type Field = { name: string; type: unknown; default?: unknown; aliases?: string[] };
const record = (fields: Field[], extra: Record<string, unknown> = {}) => ({ type: 'record', name: 'Patient', namespace: 'clinmesh.test', fields, ...extra });
const str = (s: unknown) => JSON.stringify(s);

const v1 = record([{ name: 'id', type: 'string' }]);
const withDefault = record([{ name: 'id', type: 'string' }, { name: 'mrn', type: ['null', 'string'], default: null }]);
const withoutDefault = record([{ name: 'id', type: 'string' }, { name: 'mrn', type: 'string' }]);
const enumOf = (symbols: string[], def?: string) => ({ type: 'enum', name: 'Tier', symbols, ...(def ? { default: def } : {}) });

interface Case {
  name: string;
  next: unknown;
  existing: unknown[];
  level: CompatibilityLevel;
  compatible: boolean;
  messageIncludes?: string;
}

const cases: Case[] = [
  { name: 'add field with default is BACKWARD', next: withDefault, existing: [v1], level: 'BACKWARD', compatible: true },
  { name: 'add field without default breaks BACKWARD', next: withoutDefault, existing: [v1], level: 'BACKWARD', compatible: false, messageIncludes: "READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'mrn'" },
  { name: 'add field without default is FORWARD (old reader ignores it)', next: withoutDefault, existing: [v1], level: 'FORWARD', compatible: true },
  { name: 'add field without default breaks FULL', next: withoutDefault, existing: [v1], level: 'FULL', compatible: false },
  { name: 'add field with default is FULL', next: withDefault, existing: [v1], level: 'FULL', compatible: true },
  { name: 'remove field is BACKWARD', next: v1, existing: [withoutDefault], level: 'BACKWARD', compatible: true },
  { name: 'remove field without default breaks FORWARD', next: v1, existing: [withoutDefault], level: 'FORWARD', compatible: false, messageIncludes: "'mrn'" },
  { name: 'remove field with default is FORWARD', next: v1, existing: [withDefault], level: 'FORWARD', compatible: true },
  { name: 'NONE accepts anything', next: record([{ name: 'id', type: 'int' }]), existing: [v1], level: 'NONE', compatible: true },
  { name: 'type change string->int breaks BACKWARD', next: record([{ name: 'id', type: 'int' }]), existing: [v1], level: 'BACKWARD', compatible: false, messageIncludes: 'TYPE_MISMATCH' },
  { name: 'promotion int->long is BACKWARD', next: record([{ name: 'n', type: 'long' }]), existing: [record([{ name: 'n', type: 'int' }])], level: 'BACKWARD', compatible: true },
  { name: 'promotion int->long breaks FORWARD', next: record([{ name: 'n', type: 'long' }]), existing: [record([{ name: 'n', type: 'int' }])], level: 'FORWARD', compatible: false },
  { name: 'promotion int->double is BACKWARD', next: record([{ name: 'n', type: 'double' }]), existing: [record([{ name: 'n', type: 'int' }])], level: 'BACKWARD', compatible: true },
  { name: 'enum symbol added is BACKWARD', next: enumOf(['STAT', 'URGENT', 'ROUTINE']), existing: [enumOf(['STAT', 'URGENT'])], level: 'BACKWARD', compatible: true },
  { name: 'enum symbol added breaks FORWARD', next: enumOf(['STAT', 'URGENT', 'ROUTINE']), existing: [enumOf(['STAT', 'URGENT'])], level: 'FORWARD', compatible: false, messageIncludes: 'MISSING_ENUM_SYMBOLS' },
  { name: 'enum symbol added is FORWARD when the old enum has a default', next: enumOf(['STAT', 'URGENT', 'ROUTINE'], 'STAT'), existing: [enumOf(['STAT', 'URGENT'], 'STAT')], level: 'FORWARD', compatible: true },
  { name: 'enum symbol removed breaks BACKWARD', next: enumOf(['STAT']), existing: [enumOf(['STAT', 'URGENT'])], level: 'BACKWARD', compatible: false, messageIncludes: 'URGENT' },
  { name: 'union widening is BACKWARD', next: record([{ name: 'v', type: ['null', 'string', 'int'] }]), existing: [record([{ name: 'v', type: ['null', 'string'] }])], level: 'BACKWARD', compatible: true },
  { name: 'union widening breaks FORWARD', next: record([{ name: 'v', type: ['null', 'string', 'int'] }]), existing: [record([{ name: 'v', type: ['null', 'string'] }])], level: 'FORWARD', compatible: false, messageIncludes: 'MISSING_UNION_BRANCH' },
  { name: 'type to union containing it is BACKWARD', next: record([{ name: 'v', type: ['null', 'string'] }]), existing: [record([{ name: 'v', type: 'string' }])], level: 'BACKWARD', compatible: true },
  { name: 'union narrowed to one branch breaks BACKWARD', next: record([{ name: 'v', type: 'string' }]), existing: [record([{ name: 'v', type: ['null', 'string'] }])], level: 'BACKWARD', compatible: false },
  { name: 'field rename with alias is BACKWARD', next: record([{ name: 'patientId', type: 'string', aliases: ['id'] }]), existing: [v1], level: 'BACKWARD', compatible: true },
  { name: 'field rename without alias breaks BACKWARD', next: record([{ name: 'patientId', type: 'string' }]), existing: [v1], level: 'BACKWARD', compatible: false, messageIncludes: "'patientId'" },
  { name: 'record rename with alias is BACKWARD', next: { ...v1, name: 'Person', aliases: ['Patient'] }, existing: [v1], level: 'BACKWARD', compatible: true },
  { name: 'record rename without alias breaks BACKWARD', next: { ...v1, name: 'Person' }, existing: [v1], level: 'BACKWARD', compatible: false, messageIncludes: 'NAME_MISMATCH' },
  { name: 'fixed size change breaks BACKWARD', next: { type: 'fixed', name: 'H', size: 8 }, existing: [{ type: 'fixed', name: 'H', size: 4 }], level: 'BACKWARD', compatible: false, messageIncludes: 'FIXED_SIZE_MISMATCH' },
  { name: 'nested record field without default breaks BACKWARD', next: record([{ name: 'addr', type: { type: 'record', name: 'Addr', fields: [{ name: 'zip', type: 'string' }] } }]), existing: [record([{ name: 'addr', type: { type: 'record', name: 'Addr', fields: [] } }])], level: 'BACKWARD', compatible: false, messageIncludes: '/fields/0/type/fields/0' },
  { name: 'array item promotion is BACKWARD', next: { type: 'array', items: 'long' }, existing: [{ type: 'array', items: 'int' }], level: 'BACKWARD', compatible: true },
  { name: 'map value change breaks BACKWARD', next: { type: 'map', values: 'int' }, existing: [{ type: 'map', values: 'string' }], level: 'BACKWARD', compatible: false },
  { name: 'logical type on same underlying type is compatible', next: record([{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }]), existing: [record([{ name: 'at', type: 'long' }])], level: 'FULL', compatible: true },
  { name: 'recursive record is handled', next: { type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'], default: null }, { name: 'v', type: 'long' }] }, existing: [{ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'], default: null }, { name: 'v', type: 'int' }] }], level: 'BACKWARD', compatible: true },
];

// Transitivity: v1 {id}, v2 {id, mrn=null default}, v3 {id, mrn (no default)}.
// v3 can read v2 data (mrn present) but not v1 data (mrn missing, no default).
const t1 = v1;
const t2 = withDefault;
const t3 = record([{ name: 'id', type: 'string' }, { name: 'mrn', type: ['null', 'string'] }]);
cases.push(
  { name: 'BACKWARD checks only the latest (v2 -> v3 ok)', next: t3, existing: [t1, t2], level: 'BACKWARD', compatible: true },
  { name: 'BACKWARD_TRANSITIVE checks all (v1 -> v3 fails)', next: t3, existing: [t1, t2], level: 'BACKWARD_TRANSITIVE', compatible: false, messageIncludes: 'oldSchemaIndex: 0' },
  { name: 'FULL checks only the latest', next: t3, existing: [t1, t2], level: 'FULL', compatible: true },
  { name: 'FULL_TRANSITIVE checks all', next: t3, existing: [t1, t2], level: 'FULL_TRANSITIVE', compatible: false },
  // Forward: the old reader v1 {id, mrn no default}; v2 drops mrn -> v1 cannot read v2.
  { name: 'FORWARD checks only the latest', next: v1, existing: [withoutDefault, withDefault], level: 'FORWARD', compatible: true },
  { name: 'FORWARD_TRANSITIVE checks all', next: v1, existing: [withoutDefault, withDefault], level: 'FORWARD_TRANSITIVE', compatible: false },
  { name: 'first version is always compatible', next: withoutDefault, existing: [], level: 'FULL_TRANSITIVE', compatible: true },
);

describe('checkAvroCompatibility', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = checkAvroCompatibility(str(c.next), c.existing.map(str), c.level);
      assert.equal(result.compatible, c.compatible, result.messages.join('\n'));
      if (c.compatible) assert.deepEqual(result.messages, []);
      else {
        assert.ok(result.messages.length > 0);
        assert.ok(result.messages.some((m) => m.includes(`compatibility: '${c.level}'`)));
      }
      if (c.messageIncludes) assert.ok(result.messages.some((m) => m.includes(c.messageIncludes!)), result.messages.join('\n'));
    });
  }

  it('accepts parsed JSON objects and lowercase levels', () => {
    const result = checkAvroCompatibility(withoutDefault as never, [v1 as never], 'backward' as CompatibilityLevel);
    assert.equal(result.compatible, false);
  });

  it('parses each schema in a fresh registry, so two versions of one named type do not clash', () => {
    assert.equal(checkAvroCompatibility(str(withDefault), [str(v1), str(v1)], 'FULL_TRANSITIVE').compatible, true);
  });

  it('rejects invalid Avro', () => {
    assert.throws(() => checkAvroCompatibility('{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}', [], 'BACKWARD'), InvalidAvroSchemaError);
    assert.throws(() => checkAvroCompatibility('not json', [], 'BACKWARD'), InvalidAvroSchemaError);
    assert.throws(() => checkAvroCompatibility(str(record([{ name: 'a', type: 'int', default: 'x' }])), [], 'BACKWARD'), InvalidAvroSchemaError);
  });

  it('rejects an unknown level', () => {
    assert.throws(() => checkAvroCompatibility(str(v1), [str(v1)], 'SIDEWAYS' as CompatibilityLevel), RangeError);
  });

  it('resolves named types from dependencies (schema references)', () => {
    const address = { type: 'record', name: 'Address', namespace: 'clinmesh.test', fields: [{ name: 'zip', type: 'string' }] };
    const withRef = str(record([{ name: 'addr', type: 'clinmesh.test.Address' }]));
    const result = checkAvroCompatibility({ schema: withRef, dependencies: [str(address)] }, [{ schema: withRef, dependencies: [str(address)] }], 'FULL');
    assert.equal(result.compatible, true);
  });
});

describe('parseAvroSchema normalization', () => {
  const fp = (s: unknown) => schemaFingerprint(parseAvroSchema(typeof s === 'string' ? s : str(s)).normalized);

  it('ignores whitespace, key order and namespace spelling', () => {
    const a = '{"type":"record","name":"Patient","namespace":"clinmesh.test","fields":[{"name":"id","type":"string"}]}';
    const b = '{ "fields": [ {"type": {"type":"string"}, "name": "id"} ], "name": "clinmesh.test.Patient", "type": "record" }';
    assert.equal(fp(a), fp(b));
  });

  it('keeps defaults, docs and logical types significant', () => {
    assert.notEqual(fp(withDefault), fp(record([{ name: 'id', type: 'string' }, { name: 'mrn', type: ['null', 'string'] }])));
    assert.notEqual(fp(v1), fp({ ...v1, doc: 'a patient' }));
    assert.notEqual(fp({ type: 'long' }), fp({ type: 'long', logicalType: 'timestamp-millis' }));
  });

  it('distinguishes references', () => {
    const n = parseAvroSchema('"string"').normalized;
    assert.notEqual(schemaFingerprint(n), schemaFingerprint(n, [{ name: 'x', subject: 's', version: 1 }]));
  });

  it('stores compact JSON of what was submitted', () => {
    assert.equal(parseAvroSchema('{ "type" : "string" }').canonical, '{"type":"string"}');
  });
});
