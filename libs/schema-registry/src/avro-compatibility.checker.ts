import * as avsc from 'avsc';
import { AvroSchemaText, parseAvroSchema } from './avro-schema.parser';

/** Confluent compatibility levels. */
export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;

/** One of Confluent's compatibility levels. */
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** True when `value` names a compatibility level (case-insensitive, as Confluent accepts). */
export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value.toUpperCase());
}

/**
 * An Avro schema to check: its text/JSON, or that plus the schemas its
 * references resolve to (dependencies first).
 */
export type AvroSchemaSource = AvroSchemaText | { schema: AvroSchemaText; dependencies?: readonly AvroSchemaText[] };

/** One reason a pair of schemas is incompatible, in the vocabulary of Avro's SchemaCompatibility. */
export interface AvroIncompatibility {
  /** Index into `existingSchemas` of the schema the new one conflicts with. */
  readonly existingIndex: number;
  /** `backward`: the new schema cannot read data of the existing one; `forward`: the reverse. */
  readonly direction: 'backward' | 'forward';
  readonly errorType:
    | 'NAME_MISMATCH'
    | 'FIXED_SIZE_MISMATCH'
    | 'MISSING_ENUM_SYMBOLS'
    | 'READER_FIELD_MISSING_DEFAULT_VALUE'
    | 'TYPE_MISMATCH'
    | 'MISSING_UNION_BRANCH'
    | 'UNRESOLVABLE';
  /** JSON-pointer-like location in the reader schema, e.g. `/fields/1`. */
  readonly path: string;
  readonly description: string;
}

/** Result of {@link checkAvroCompatibility}. */
export interface AvroCompatibilityResult {
  readonly compatible: boolean;
  /** Human-readable reasons, Confluent's verbose format; empty when compatible. */
  readonly messages: string[];
  readonly incompatibilities: AvroIncompatibility[];
}

/**
 * Checks a new Avro schema against existing versions (oldest first) under a
 * Confluent compatibility level:
 * - BACKWARD: the new schema can read data written with the latest existing one;
 * - FORWARD: the latest existing schema can read data written with the new one;
 * - FULL: both; `*_TRANSITIVE`: against every existing version, not just the latest;
 * - NONE: always compatible.
 *
 * Whether a reader can read a writer is decided by avsc's schema resolution
 * (`reader.createResolver(writer)` throws when it cannot), so the answer is
 * exactly what an avsc consumer will do at runtime. The explanation (which
 * field lacks a default, which symbol went missing) comes from a walk that
 * mirrors Avro's SchemaCompatibility, because avsc's own errors name types,
 * not fields.
 *
 * `options.versions` (the existing schemas' version numbers) makes messages
 * say `oldSchemaVersion: n`, as Confluent's do, instead of the list index.
 *
 * Used by the registry before registering, and by CI to check schema changes
 * against released versions.
 *
 * @throws InvalidAvroSchemaError when any schema is not valid Avro.
 */
export function checkAvroCompatibility(
  newSchema: AvroSchemaSource,
  existingSchemas: readonly AvroSchemaSource[],
  level: CompatibilityLevel,
  options: { versions?: readonly number[] } = {},
): AvroCompatibilityResult {
  const normalizedLevel = level.toUpperCase() as CompatibilityLevel;
  if (!(COMPATIBILITY_LEVELS as readonly string[]).includes(normalizedLevel)) {
    throw new RangeError(`unknown compatibility level ${String(level)}`);
  }
  const candidate = toType(newSchema);
  if (normalizedLevel === 'NONE' || existingSchemas.length === 0) return { compatible: true, messages: [], incompatibilities: [] };
  const transitive = normalizedLevel.endsWith('_TRANSITIVE');
  const backward = normalizedLevel.startsWith('BACKWARD') || normalizedLevel.startsWith('FULL');
  const forward = normalizedLevel.startsWith('FORWARD') || normalizedLevel.startsWith('FULL');
  const indexes = transitive ? [...existingSchemas.keys()].reverse() : [existingSchemas.length - 1];

  const incompatibilities: AvroIncompatibility[] = [];
  const messages: string[] = [];
  for (const index of indexes) {
    const existing = toType(existingSchemas[index]);
    const found: AvroIncompatibility[] = [];
    if (backward) found.push(...incompatibilitiesOf(candidate, existing, index, 'backward'));
    if (forward) found.push(...incompatibilitiesOf(existing, candidate, index, 'forward'));
    if (found.length === 0) continue;
    incompatibilities.push(...found);
    for (const item of found) {
      messages.push(
        `{errorType:'${item.errorType}', description:'${item.description}', additionalInfo:'${item.path}'}`,
      );
    }
    const which = options.versions?.[index] !== undefined ? `oldSchemaVersion: ${options.versions[index]}` : `oldSchemaIndex: ${index}`;
    messages.push(`{${which}, oldSchema: '${JSON.stringify(existing.schema({ exportAttrs: true }))}'}`);
  }
  if (incompatibilities.length > 0) messages.push(`{compatibility: '${normalizedLevel}'}`);
  return { compatible: incompatibilities.length === 0, messages, incompatibilities };
}

/** True when data written with `writer` can be read with `reader` (avsc schema resolution). */
export function canRead(reader: avsc.Type, writer: avsc.Type): boolean {
  try {
    reader.createResolver(writer);
    return true;
  } catch {
    return false;
  }
}

function toType(source: AvroSchemaSource): avsc.Type {
  if (typeof source === 'object' && source !== null && !Array.isArray(source) && 'schema' in source && !('type' in source)) {
    const s = source as { schema: AvroSchemaText; dependencies?: readonly AvroSchemaText[] };
    return parseAvroSchema(s.schema, s.dependencies ?? []).type;
  }
  return parseAvroSchema(source as AvroSchemaText).type;
}

function incompatibilitiesOf(
  reader: avsc.Type,
  writer: avsc.Type,
  existingIndex: number,
  direction: 'backward' | 'forward',
): AvroIncompatibility[] {
  if (canRead(reader, writer)) return [];
  // Wording follows Confluent's: in the backward direction the reader is the new schema.
  const readerName = direction === 'backward' ? 'new' : 'old';
  const writerName = direction === 'backward' ? 'old' : 'new';
  const raw = explain(reader, writer, '', new Set(), readerName, writerName);
  const found = raw.map((r) => ({ ...r, existingIndex, direction }));
  if (found.length > 0) return found;
  // avsc refused but the walk found nothing specific: report avsc's reason.
  let reason = 'schemas are not resolvable';
  try {
    reader.createResolver(writer);
  } catch (error) {
    reason = (error as Error).message;
  }
  return [
    {
      existingIndex,
      direction,
      errorType: 'UNRESOLVABLE',
      path: '/',
      description: `The ${readerName} schema cannot read data written with the ${writerName} schema: ${reason}`,
    },
  ];
}

type Raw = Omit<AvroIncompatibility, 'existingIndex' | 'direction'>;

const PROMOTIONS: Record<string, string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

function kind(type: avsc.Type): string {
  const name = type.typeName;
  return name.startsWith('union') ? 'union' : name === 'error' ? 'record' : name;
}

function typeLabel(type: avsc.Type): string {
  return type.name ?? type.typeName;
}

/** Mirrors Avro's SchemaCompatibility.ReaderWriterCompatibilityChecker, collecting every reason. */
function explain(reader: avsc.Type, writer: avsc.Type, path: string, visiting: Set<string>, r: string, w: string): Raw[] {
  const at = path || '/';
  const readerKind = kind(reader);
  const writerKind = kind(writer);
  if (writerKind === 'union' && readerKind !== 'union') {
    return (writer as unknown as { types: avsc.Type[] }).types.flatMap((branch) => explain(reader, branch, path, visiting, r, w));
  }
  if (readerKind === writerKind) {
    switch (readerKind) {
      case 'array':
        return explain((reader as avsc.types.ArrayType).itemsType, (writer as avsc.types.ArrayType).itemsType, `${path}/items`, visiting, r, w);
      case 'map':
        return explain((reader as avsc.types.MapType).valuesType, (writer as avsc.types.MapType).valuesType, `${path}/values`, visiting, r, w);
      case 'fixed': {
        const out = nameMismatch(reader, writer, at, r, w);
        const rs = (reader as avsc.types.FixedType).size;
        const ws = (writer as avsc.types.FixedType).size;
        if (rs !== ws) {
          out.push({ errorType: 'FIXED_SIZE_MISMATCH', path: `${path}/size`, description: `The size of FIXED type field at path '${at}' in the ${r} schema does not match with the ${w} schema: expected ${ws}, found ${rs}` });
        }
        return out;
      }
      case 'enum': {
        const out = nameMismatch(reader, writer, at, r, w);
        const readerEnum = reader as avsc.types.EnumType & { default?: string };
        const missing = (writer as avsc.types.EnumType).symbols.filter((s) => !readerEnum.symbols.includes(s));
        if (missing.length > 0 && readerEnum.default === undefined) {
          out.push({ errorType: 'MISSING_ENUM_SYMBOLS', path: `${path}/symbols`, description: `The ${r} schema is missing enum symbols '[${missing.join(', ')}]' at path '${at}' in the ${w} schema` });
        }
        return out;
      }
      case 'record': {
        const out = nameMismatch(reader, writer, at, r, w);
        const key = `${typeLabel(reader)}<-${typeLabel(writer)}`;
        if (visiting.has(key)) return out; // recursive type already being checked
        visiting.add(key);
        const writerFields = (writer as avsc.types.RecordType).fields;
        (reader as avsc.types.RecordType).fields.forEach((field, index) => {
          const names = [field.name, ...(field.aliases ?? [])];
          const match = writerFields.find((candidate) => names.includes(candidate.name));
          if (!match) {
            if (field.defaultValue() === undefined) {
              out.push({ errorType: 'READER_FIELD_MISSING_DEFAULT_VALUE', path: `${path}/fields/${index}`, description: `The field '${field.name}' at path '${path}/fields/${index}' in the ${r} schema has no default value and is missing in the ${w} schema` });
            }
          } else {
            out.push(...explain(field.type, match.type, `${path}/fields/${index}/type`, visiting, r, w));
          }
        });
        visiting.delete(key);
        return out;
      }
      case 'union':
        return (writer as unknown as { types: avsc.Type[] }).types.flatMap((branch, index) =>
          canRead(reader, branch)
            ? []
            : [{ errorType: 'MISSING_UNION_BRANCH' as const, path: `${path}/${index}`, description: `The ${r} schema is missing a type inside a union field at path '${path}/${index}' in the ${w} schema: ${typeLabel(branch)}` }],
        );
      default:
        return []; // same primitive
    }
  }
  if (readerKind !== 'union' && (PROMOTIONS[writerKind] ?? []).includes(readerKind)) return [];
  if (readerKind === 'union') {
    const branches = (reader as unknown as { types: avsc.Type[] }).types;
    if (branches.some((branch) => canRead(branch, writer))) return [];
    return [{ errorType: 'MISSING_UNION_BRANCH', path: at, description: `The ${r} schema is missing a type inside a union field at path '${at}' in the ${w} schema: ${typeLabel(writer)}` }];
  }
  return [{ errorType: 'TYPE_MISMATCH', path: at, description: `The type (path '${at}') of a field in the ${r} schema does not match with the ${w} schema: expected ${typeLabel(writer)}, found ${typeLabel(reader)}` }];
}

function nameMismatch(reader: avsc.Type, writer: avsc.Type, at: string, r: string, w: string): Raw[] {
  const readerName = reader.name;
  const writerName = writer.name;
  if (!readerName || !writerName || readerName === writerName) return [];
  const aliases = (reader as unknown as { aliases?: string[] }).aliases ?? [];
  if (aliases.includes(writerName)) return [];
  return [{ errorType: 'NAME_MISMATCH', path: `${at === '/' ? '' : at}/name`, description: `The name of the schema has changed (path '${at}'): the ${r} schema is named ${readerName}, the ${w} schema ${writerName}` }];
}
