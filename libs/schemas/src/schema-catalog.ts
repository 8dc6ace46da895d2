import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as avro from 'avsc';

/**
 * Loads the Avro contracts in the repository's `schemas/` folder. Authors
 * write each record once and refer to shared named types (Tier,
 * MessageSource, IngestedEvent...) by name; the catalog resolves them in
 * dependency order and hands out self-contained schemas (every named type
 * inlined at first use), which is what a schema registry subject needs.
 */
export const SCHEMA_LOAD_ORDER = [
  'IngestedEvent', 'IdentifiedEvent', 'CanonicalEvent', 'RoutedEvent', 'TaskEvent',
  'DeliveryEvent', 'IdentityEvent', 'DeadLetter', 'OperationsEvent', 'PolicyEvent', 'PolicyDecisionEvent',
] as const;
export type EventSchemaName = (typeof SCHEMA_LOAD_ORDER)[number];

export const SCHEMA_NAMESPACE = 'org.clinmesh.events';

/**
 * Compatibility level each event schema's subjects must have, stricter than
 * the registry default. The canonical topics are the public contract read by
 * analytics with their own tools: every new version must read every released
 * one (BACKWARD_TRANSITIVE), not only the latest.
 */
export const SUBJECT_COMPATIBILITY: Readonly<Partial<Record<EventSchemaName, 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FULL_TRANSITIVE'>>> = {
  CanonicalEvent: 'BACKWARD_TRANSITIVE',
};

export function findSchemasDir(start = __dirname): string {
  if (process.env.CLINMESH_SCHEMAS_DIR) return process.env.CLINMESH_SCHEMAS_DIR;
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'schemas', 'IngestedEvent.avsc')) && existsSync(join(dir, 'package.json'))) return join(dir, 'schemas');
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`schemas/ not found above ${start}`);
    dir = parent;
  }
}

export interface SchemaCatalog {
  /** Self-contained schema JSON for a record, ready to register. */
  schema(name: EventSchemaName): avro.Schema;
  type(name: EventSchemaName): avro.Type;
  names(): readonly EventSchemaName[];
  /** The compatibility level the schema's subjects must be set to before registering, when stricter than the default. */
  compatibility?(name: EventSchemaName): string | undefined;
}

export function loadSchemaCatalog(dir = findSchemasDir()): SchemaCatalog {
  const registry: Record<string, avro.Type> = {};
  const types = new Map<EventSchemaName, avro.Type>();
  for (const name of SCHEMA_LOAD_ORDER) {
    const raw = JSON.parse(readFileSync(join(dir, `${name}.avsc`), 'utf8'));
    types.set(name, avro.Type.forSchema(raw, { registry, namespace: SCHEMA_NAMESPACE }));
  }
  const standalone = new Map<EventSchemaName, avro.Schema>();
  for (const [name, type] of types) standalone.set(name, type.schema({ exportAttrs: true }) as avro.Schema);
  return {
    schema: (name) => standalone.get(name)!,
    type: (name) => types.get(name)!,
    names: () => SCHEMA_LOAD_ORDER,
    compatibility: (name) => SUBJECT_COMPATIBILITY[name],
  };
}
