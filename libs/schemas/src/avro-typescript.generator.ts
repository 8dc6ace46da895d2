import * as avro from 'avsc';
import { SchemaCatalog } from './schema-catalog';

/**
 * Generates TypeScript interfaces from the Avro contracts so the types are
 * never written twice. Mapping follows what avsc decodes without logical-type
 * hooks: long → number (epoch ms for timestamp-millis), bytes → Buffer,
 * enum → string-literal union, ["null", T] → T | null, map → Record; a field
 * of an event envelope (a catalog name) with a default is optional (`name?:`),
 * since producers written against an older version omit it.
 */
export function generateTypeScript(catalog: SchemaCatalog): string {
  const emitted = new Map<string, string>();
  const envelopes = new Set<string>(catalog.names());
  const tsFor = (type: avro.Type): string => {
    const t = type as avro.Type & { typeName: string; name?: string };
    switch (t.typeName) {
      case 'null': return 'null';
      case 'boolean': return 'boolean';
      case 'int': case 'long': case 'float': case 'double': return 'number';
      case 'string': return 'string';
      case 'bytes': case 'fixed': return 'Buffer';
      case 'enum': {
        const name = shortName(t.name!);
        if (!emitted.has(name)) {
          const symbols = (type as avro.types.EnumType).symbols.map((s) => `'${s}'`).join(' | ');
          emitted.set(name, `${doc(type)}export type ${name} = ${symbols};\nexport const ${name}Values = [${(type as avro.types.EnumType).symbols.map((s) => `'${s}'`).join(', ')}] as const;\n`);
        }
        return name;
      }
      case 'array': return `Array<${tsFor((type as avro.types.ArrayType).itemsType)}>`;
      case 'map': return `Record<string, ${tsFor((type as avro.types.MapType).valuesType)}>`;
      case 'union:unwrapped': case 'union:wrapped':
        return (type as unknown as { types: avro.Type[] }).types.map(tsFor).join(' | ');
      case 'record': case 'error': {
        const name = shortName(t.name!);
        if (!emitted.has(name)) {
          emitted.set(name, ''); // reserve first so recursive types terminate
          const fields = (type as avro.types.RecordType).fields.map((f) => {
            const fieldDoc = (f as unknown as { doc?: string }).doc;
            // An event envelope field with a default may be omitted by a producer written against an
            // older version (Avro fills the default; decoders always return it). Nested model records
            // keep every field required: our mappers always write them and readers rely on them.
            const optional = envelopes.has(name) && f.defaultValue() !== undefined ? '?' : '';
            return `${fieldDoc ? `  /** ${fieldDoc} */\n` : ''}  ${f.name}${optional}: ${tsFor(f.type)};`;
          });
          emitted.set(name, `${doc(type)}export interface ${name} {\n${fields.join('\n')}\n}\n`);
        }
        return name;
      }
      default:
        throw new Error(`avro type ${t.typeName} has no TypeScript mapping`);
    }
  };
  for (const name of catalog.names()) tsFor(catalog.type(name));
  // The schema name → value type map lets typed consumer definitions infer their handler's event type.
  const map = `/** Value type of each event schema in the catalog, by schema name. */\nexport interface EventSchemaTypes {\n${catalog.names().map((n) => `  ${n}: ${n};`).join('\n')}\n}\n`;
  return `// Generated from schemas/*.avsc by tools/generate-event-types — do not edit.\n/* eslint-disable */\n\n${[...emitted.values(), map].join('\n')}`;
}

function shortName(full: string): string {
  return full.slice(full.lastIndexOf('.') + 1);
}

function doc(type: avro.Type): string {
  const d = (type as unknown as { doc?: string }).doc;
  return d ? `/** ${d} */\n` : '';
}
