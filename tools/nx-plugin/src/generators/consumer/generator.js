// @ts-check
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: Nx loads a local plugin from source, and there is no TypeScript transpiler for Nx here */
'use strict';
/**
 * `nx g @clinmesh/nx-plugin:consumer <name> --topics canonical --tiers stat,urgent --resource Observation`
 *
 * Generates apps/<name> in the house shape (domain/, application/, adapters/, config/,
 * <name>.consumers.ts, <name>.service.ts, main.ts), with a typed handler for the chosen
 * canonical record type, its own table and migration, one consumer per tier through the
 * event runtime, typed event builders derived from schemas/CanonicalEvent.avsc, a unit spec
 * and an integration spec, and registers the service in the embedded launcher's catalogue.
 * It writes nothing else: no producer (ingest, identity-resolution, normalization, policy,
 * notifier) is touched.
 *
 * Plain CommonJS on purpose: Nx loads a local plugin from source, and this workspace has no
 * TypeScript transpiler for Nx (ts-node / swc) — so the generator runs without a build.
 */
const path = require('node:path');
const { formatFiles, generateFiles, names, readJson } = require('@nx/devkit');

const CATALOG = 'libs/embedded-platform/src/platform/service-catalog.ts';
const PRODUCERS = ['ingest', 'identity-resolution', 'normalization', 'policy', 'task', 'notifier'];
const TIERS = ['stat', 'urgent', 'routine', 'bulk'];

/** Canonical record type → its list in CanonicalRecords. */
const RECORD_LISTS = {
  Patient: 'patients',
  Encounter: 'encounters',
  Observation: 'observations',
  DiagnosticReport: 'diagnosticReports',
  ServiceRequest: 'serviceRequests',
  MedicationRequest: 'medicationRequests',
  MedicationAdministration: 'medicationAdministrations',
  Immunization: 'immunizations',
  Appointment: 'appointments',
  Condition: 'conditions',
  AllergyIntolerance: 'allergies',
  DocumentReference: 'documents',
  Procedure: 'procedures',
  Coverage: 'coverages',
};

/**
 * @param {import('@nx/devkit').Tree} tree
 * @param {{ name: string; topics?: string; tiers?: string; resource?: string; port?: number; register?: boolean; skipFormat?: boolean }} options
 */
async function consumerGenerator(tree, options) {
  const o = normalizeOptions(tree, options);
  const root = `apps/${o.fileName}`;
  if (tree.exists(root)) throw new Error(`${root} already exists`);
  if (PRODUCERS.includes(o.fileName)) throw new Error(`${o.fileName} is one of the pipeline's services`);

  // Every contract: named types (Tier, MessageSource, ...) may be defined in another schema file.
  const schemas = (tree.children('schemas') ?? []).filter((f) => f.endsWith('.avsc')).map((f) => readJson(tree, `schemas/${f}`));
  const defaults = avroDefaults(schemas);
  const canonicalDefaults = { ...defaults('CanonicalEvent') };
  delete canonicalDefaults.records;

  generateFiles(tree, path.join(__dirname, 'files'), root, {
    ...o,
    tmpl: '',
    recordDefaults: literal(defaults(o.resource), 0),
    canonicalDefaults: literal(canonicalDefaults, 0),
    emptyRecords: literal(defaults('CanonicalRecords'), 0),
    migrationTimestamp: o.migrationTimestamp,
  });
  if (o.register) registerInCatalog(tree, o.fileName, o.port);
  if (!options.skipFormat) await formatFiles(tree);
  return () => {
    process.stdout.write(`\n${root} generated. Build with \`npm run -s build\`, lint with \`npx nx run ${o.fileName}:lint\`, run with \`npm start\`${o.register ? '' : ' (not registered in the launcher: --register=false)'}.\n`);
  };
}

function normalizeOptions(tree, options) {
  const n = names(options.name);
  const fileName = n.fileName;
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(fileName)) throw new Error(`name must be kebab-case (got ${options.name})`);
  const topics = options.topics ?? 'canonical';
  if (!['canonical', 'deidentified'].includes(topics)) throw new Error(`--topics must be canonical or deidentified (got ${topics})`);
  const tiers = String(options.tiers ?? TIERS.join(',')).split(',').map((t) => t.trim()).filter(Boolean);
  const badTiers = tiers.filter((t) => !TIERS.includes(t));
  if (!tiers.length || badTiers.length) throw new Error(`--tiers must list stat, urgent, routine, bulk (got ${options.tiers})`);
  const resource = options.resource ?? 'Observation';
  const recordList = RECORD_LISTS[resource];
  if (!recordList) throw new Error(`--resource must be one of ${Object.keys(RECORD_LISTS).join(', ')} (got ${resource})`);
  const port = options.port ?? nextPort(tree);
  const resourceNames = names(resource);
  return {
    name: fileName,
    fileName,
    className: n.className,
    propertyName: n.propertyName,
    constantName: n.constantName,
    envPrefix: fileName.toUpperCase().replace(/-/g, '_'),
    sqlPrefix: fileName.replace(/-/g, '_'),
    topics,
    tiers,
    resource,
    resourceFile: resourceNames.fileName,
    resourceProperty: resourceNames.propertyName,
    recordList,
    port,
    register: options.register !== false,
    migrationTimestamp: Date.now(),
  };
}

/** One above the highest port in the catalogue (8087 for the first consumer). */
function nextPort(tree) {
  if (!tree.exists(CATALOG)) return 8087;
  const ports = [...tree.read(CATALOG, 'utf-8').matchAll(/:\s*(\d{4,5}),/g)].map((m) => Number(m[1])).filter((p) => p >= 8080 && p < 9000);
  return ports.length ? Math.max(...ports) + 1 : 8087;
}

/**
 * Appends the service to CONSUMER_SERVICE_NAMES and SERVICE_PORTS in the launcher's catalogue:
 * `npm start` runs it (own database, port, runtime.json entry); test pipelines keep the six.
 */
function registerInCatalog(tree, name, port) {
  if (!tree.exists(CATALOG)) throw new Error(`${CATALOG} not found: run the generator at the workspace root`);
  let text = tree.read(CATALOG, 'utf-8');
  const list = /(export const CONSUMER_SERVICE_NAMES = \[[^\]]*?)(\n?\] as const;)/;
  const ports = /(export const SERVICE_PORTS[^{]*\{[^}]*?)(\n?\};)/;
  if (!list.test(text) || !ports.test(text)) throw new Error(`${CATALOG}: CONSUMER_SERVICE_NAMES / SERVICE_PORTS not found`);
  if (new RegExp(`'${name}'`).test(text)) return;
  text = text.replace(list, (_m, head, tail) => `${head}\n  '${name}',${tail}`);
  text = text.replace(ports, (_m, head, tail) => `${head}\n  '${name}': ${port},${tail}`);
  tree.write(CATALOG, text);
}

/**
 * Default values for every named record of an Avro schema: the typed builders start from
 * these, so they follow the schema as it is when the consumer is generated (nulls for
 * optional unions, empty lists, first enum symbol).
 */
function avroDefaults(schemas) {
  const named = new Map();
  const index = (t, ns) => {
    if (Array.isArray(t)) return t.forEach((x) => index(x, ns));
    if (!t || typeof t !== 'object') return;
    if (t.type === 'record' || t.type === 'enum' || t.type === 'fixed') {
      const space = t.namespace ?? ns;
      named.set(t.name, t);
      if (space) named.set(`${space}.${t.name}`, t);
      if (t.type === 'record') t.fields.forEach((f) => index(f.type, space));
    } else if (t.type === 'array') index(t.items, ns);
    else if (t.type === 'map') index(t.values, ns);
  };
  for (const schema of schemas) index(schema, schema.namespace);
  const valueOf = (t) => {
    if (Array.isArray(t)) return t.includes('null') ? null : valueOf(t[0]);
    if (typeof t === 'string') {
      switch (t) {
        case 'null': return null;
        case 'boolean': return false;
        case 'int': case 'long': case 'float': case 'double': return 0;
        case 'string': return '';
        case 'bytes': return '';
        default: return valueOf(named.get(t));
      }
    }
    if (!t) return null;
    switch (t.type) {
      case 'record': return Object.fromEntries(t.fields.map((f) => [f.name, f.default !== undefined && f.default !== null && typeof f.default !== 'object' ? f.default : valueOf(f.type)]));
      case 'enum': return t.symbols[0];
      case 'array': return [];
      case 'map': return {};
      default: return valueOf(t.type);
    }
  };
  return (name) => {
    const t = named.get(name);
    if (!t) throw new Error(`schemas/*.avsc define no record ${name}`);
    return valueOf(t);
  };
}

/** A JSON value as a TypeScript object literal, indented. */
function literal(value, indent) {
  return JSON.stringify(value, null, 2).replace(/"([A-Za-z_][A-Za-z0-9_]*)":/g, '$1:').replace(/"/g, "'").split('\n').join(`\n${' '.repeat(indent)}`);
}

module.exports = { consumerGenerator, default: consumerGenerator, avroDefaults, registerInCatalog, RECORD_LISTS };
