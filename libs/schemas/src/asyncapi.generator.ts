import { EventSchemaName, SchemaCatalog, SUBJECT_COMPATIBILITY } from './schema-catalog';

/** A topic as the topology defines it (libs/topology `topologyTopics()`). */
export interface AsyncApiTopic {
  name: string;
  partitions: number;
  schema: string;
  tier?: string;
}

/** One Kafka header carried on every event (libs/event-runtime `HEADER`). */
export interface AsyncApiHeader {
  name: string;
  description: string;
  required: boolean;
}

const KEY_DOC: Record<string, string> = {
  IngestedEvent: 'Source patient key: HMAC-SHA256(authority|identifier) hex, never readable PHI; the correlation id when the message has no patient.',
  DeadLetter: 'The original message key.',
};
const DEFAULT_KEY_DOC = 'Enterprise patient id (EPID), so one patient\'s events stay ordered; the correlation id when the message has no patient.';

/**
 * AsyncAPI 2.6 document of every topic: its key, headers, partitions and the
 * Avro schema (as registered under `<topic>-value`), generated from the
 * topology and the schema catalog so it can never drift from what runs.
 */
export function generateAsyncApi(catalog: SchemaCatalog, topics: AsyncApiTopic[], headers: AsyncApiHeader[], version: string): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  for (const t of topics) {
    const schema = t.schema as EventSchemaName;
    channels[t.name] = {
      description: `${(catalog.schema(schema) as { doc?: string }).doc ?? schema}${t.tier ? ` Tier: ${t.tier}.` : ''} Value subject \`${t.name}-value\` (Confluent wire format: magic byte 0 + 4-byte schema id + Avro binary)${SUBJECT_COMPATIBILITY[schema] ? `, compatibility ${SUBJECT_COMPATIBILITY[schema]}` : ''}.`,
      bindings: { kafka: { topic: t.name, partitions: t.partitions, bindingVersion: '0.4.0' } },
      subscribe: { operationId: `consume.${t.name}`, message: { $ref: `#/components/messages/${schema}` } },
    };
  }
  const messages: Record<string, unknown> = {};
  const used = [...new Set(topics.map((t) => t.schema as EventSchemaName))];
  const headerSchema = {
    type: 'object',
    required: headers.filter((h) => h.required).map((h) => h.name),
    properties: Object.fromEntries(headers.map((h) => [h.name, { type: 'string', description: h.description }])),
  };
  for (const name of used) {
    messages[name] = {
      name,
      title: name,
      summary: (catalog.schema(name) as { doc?: string }).doc ?? name,
      contentType: 'application/vnd.apache.avro+binary',
      schemaFormat: 'application/vnd.apache.avro+json;version=1.9.0',
      headers: headerSchema,
      bindings: { kafka: { key: { type: 'string', description: KEY_DOC[name] ?? DEFAULT_KEY_DOC }, schemaIdLocation: 'payload', schemaIdPayloadEncoding: 'confluent', bindingVersion: '0.4.0' } },
      payload: catalog.schema(name),
    };
  }
  return {
    asyncapi: '2.6.0',
    info: {
      title: 'clinmesh event topics',
      version,
      description: 'Every topic of the clinmesh backbone. The canonical topics (clinical.canonical.<tier>) are the public contract for analytics: read them with any Kafka client and a Confluent-compatible schema registry. Generated from libs/topology and schemas/ — do not edit by hand.',
    },
    defaultContentType: 'application/vnd.apache.avro+binary',
    channels,
    components: { messages },
  };
}

/** YAML for JSON-shaped data: block style, strings JSON-quoted (valid YAML), stable key order. */
export function toYaml(value: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  const scalar = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === null || v === undefined ? 'null' : String(v));
  if (Array.isArray(value)) {
    if (!value.length) return `${pad}[]\n`;
    return value.map((v) => (v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length : Object.keys(v).length)
      ? `${pad}-\n${toYaml(v, indent + 2)}`
      : `${pad}- ${typeof v === 'object' && v !== null ? (Array.isArray(v) ? '[]' : '{}') : scalar(v)}\n`)).join('');
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length) return `${pad}{}\n`;
    return entries.map(([k, v]) => {
      const key = /^[A-Za-z_$][\w$.-]*$/.test(k) ? k : JSON.stringify(k);
      if (v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length : Object.keys(v).length)) return `${pad}${key}:\n${toYaml(v, indent + 2)}`;
      return `${pad}${key}: ${typeof v === 'object' && v !== null ? (Array.isArray(v) ? '[]' : '{}') : scalar(v)}\n`;
    }).join('');
  }
  return `${pad}${scalar(value)}\n`;
}
