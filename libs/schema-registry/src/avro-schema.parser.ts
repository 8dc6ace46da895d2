import { createHash } from 'node:crypto';
import * as avsc from 'avsc';
import { ClinmeshError } from '@clinmesh/errors';

/** An Avro schema as text (JSON) or as an already-parsed JSON value. */
export type AvroSchemaText = string | avsc.Schema;

/** Raised when a schema is not valid Avro (bad JSON, unknown type, invalid default...). */
export class InvalidAvroSchemaError extends ClinmeshError {
  constructor(message: string, cause?: unknown) {
    super('SCHEMA_REGISTRY.AVRO.INVALID_SCHEMA', message, { status: 422, cause });
  }
}

/** A schema parsed and validated by avsc, plus the forms the registry stores and compares. */
export interface ParsedAvroSchema {
  /** The avsc type (named types of the dependencies resolved). */
  readonly type: avsc.Type;
  /** Compact JSON of the schema as submitted (key order kept): what the registry stores and serves. */
  readonly canonical: string;
  /**
   * Normalized JSON: keys sorted, names fully qualified, `{"type":"int"}` folded
   * to `"int"`. Two submissions that differ only in whitespace, key order or
   * namespace spelling normalize to the same text, so they get the same id.
   * Unlike Avro's Parsing Canonical Form it keeps defaults, docs, aliases,
   * logical types and custom properties, because those change what the
   * schema means to readers (a default is what makes a change compatible).
   */
  readonly normalized: string;
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

/**
 * Parses and validates an Avro schema with avsc. `dependencies` are the
 * schemas named by the schema's references, dependencies first; their named
 * types are loaded into the same (fresh) avsc registry so the main schema can
 * refer to them by name.
 *
 * Every call uses a fresh avsc `registry`: avsc otherwise remembers named
 * types across parses and would reject (or silently reuse) a second
 * definition of `com.acme.Patient` — e.g. an old and a new version of it.
 * No `logicalTypes` are registered on purpose: compatibility is decided on
 * the underlying Avro types, as Avro's own SchemaCompatibility does.
 *
 * @throws InvalidAvroSchemaError when the text is not JSON or not valid Avro.
 */
export function parseAvroSchema(schema: AvroSchemaText, dependencies: readonly AvroSchemaText[] = []): ParsedAvroSchema {
  const json = toJson(schema, 'schema');
  const registry: Record<string, avsc.Type> = {};
  for (const [index, dependency] of dependencies.entries()) {
    try {
      avsc.Type.forSchema(toJson(dependency, `reference #${index + 1}`) as avsc.Schema, { registry });
    } catch (error) {
      if (error instanceof InvalidAvroSchemaError) throw error;
      throw new InvalidAvroSchemaError(`invalid referenced schema #${index + 1}: ${(error as Error).message}`, error);
    }
  }
  let type: avsc.Type;
  try {
    type = avsc.Type.forSchema(json as avsc.Schema, { registry });
  } catch (error) {
    throw new InvalidAvroSchemaError((error as Error).message, error);
  }
  return { type, canonical: JSON.stringify(json), normalized: stableStringify(normalizeAvroJson(json, '')) };
}

/**
 * The registry's identity of a schema: SHA-256 over its normalized form and
 * its references (the same text with different references is a different
 * schema, as in Confluent's registry).
 */
export function schemaFingerprint(normalized: string, references: readonly SchemaReference[] = []): string {
  const refs = references.map((r) => `${r.name}\u0000${r.subject}\u0000${r.version}`).join('\u0001');
  return createHash('sha256').update(normalized).update('\u0002').update(refs).digest('hex');
}

/** A Confluent schema reference: the named type `name` is defined by `subject` at `version`. */
export interface SchemaReference {
  readonly name: string;
  readonly subject: string;
  readonly version: number;
}

function toJson(schema: AvroSchemaText, what: string): unknown {
  if (typeof schema !== 'string') return schema;
  try {
    return JSON.parse(schema);
  } catch (error) {
    throw new InvalidAvroSchemaError(`${what} is not valid JSON: ${(error as Error).message}`, error);
  }
}

function qualify(name: string, namespace: string): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

function normalizeAvroJson(node: unknown, namespace: string): unknown {
  if (typeof node === 'string') return PRIMITIVES.has(node) ? node : qualify(node, namespace);
  if (Array.isArray(node)) return node.map((branch) => normalizeAvroJson(branch, namespace));
  if (node === null || typeof node !== 'object') return node;
  const source = node as Record<string, unknown>;
  const type = source['type'];
  const out: Record<string, unknown> = {};
  if (typeof type === 'string' && NAMED.has(type)) {
    const name = String(source['name'] ?? '');
    const explicitNs = typeof source['namespace'] === 'string' ? (source['namespace'] as string) : namespace;
    const fullName = qualify(name, explicitNs);
    const innerNs = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : '';
    for (const [key, value] of Object.entries(source)) {
      if (key === 'namespace') continue;
      if (key === 'name') out[key] = fullName;
      else if (key === 'aliases' && Array.isArray(value)) out[key] = value.map((a) => qualify(String(a), innerNs));
      else if (key === 'fields' && Array.isArray(value)) {
        out[key] = value.map((field: Record<string, unknown>) => ({ ...field, type: normalizeAvroJson(field['type'], innerNs) }));
      } else out[key] = value;
    }
    return out;
  }
  if (typeof type === 'string' && PRIMITIVES.has(type) && Object.keys(source).length === 1) return type;
  for (const [key, value] of Object.entries(source)) {
    if (key === 'items' || key === 'values' || (key === 'type' && typeof value !== 'string')) out[key] = normalizeAvroJson(value, namespace);
    else out[key] = value;
  }
  // {"type": {"type": "record", ...}} is the nested type itself.
  if (Object.keys(out).length === 1 && 'type' in out && typeof type === 'object') return out['type'];
  return out;
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
