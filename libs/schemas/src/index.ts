export { loadSchemaCatalog, findSchemasDir, SchemaCatalog, EventSchemaName, SCHEMA_LOAD_ORDER, SCHEMA_NAMESPACE, SUBJECT_COMPATIBILITY } from './schema-catalog';
export { generateTypeScript } from './avro-typescript.generator';
export * from './generated/events';
