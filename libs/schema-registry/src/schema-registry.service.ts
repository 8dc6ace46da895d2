import { PoolClient } from 'pg';
import { AvroSchemaText, InvalidAvroSchemaError, parseAvroSchema, SchemaReference, schemaFingerprint } from './avro-schema.parser';
import { AvroSchemaSource, checkAvroCompatibility, CompatibilityLevel, isCompatibilityLevel } from './avro-compatibility.checker';
import { RegistryErrors } from './schema-registry.errors';
import { RegistryMode, SchemaStoreRepository, StoredSchema, SubjectVersion } from './schema-store.repository';

/** A version selector from a URL: a positive integer or the latest live version. */
export type VersionSpec = number | 'latest';

const MODES: readonly RegistryMode[] = ['READWRITE', 'READONLY', 'IMPORT'];
const MAX_INT = 2 ** 31 - 1;

interface PreparedSchema {
  readonly schema: string;
  readonly references: SchemaReference[];
  readonly dependencies: string[];
  readonly fingerprint: string;
}

/** The JSON a subject version is answered with (Confluent's `Schema` entity). */
export interface SchemaVersionView {
  subject: string;
  version: number;
  id: number;
  schema: string;
  references?: SchemaReference[];
}

/**
 * The registry's behaviour, independent of HTTP: Confluent's semantics for
 * registration, lookup, soft/hard deletion, compatibility configuration and
 * modes, on top of {@link SchemaStoreRepository}. Methods throw
 * `SchemaRegistryError`s carrying Confluent's error codes.
 */
export class SchemaRegistryService {
  constructor(
    private readonly store: SchemaStoreRepository,
    private readonly defaultCompatibility: CompatibilityLevel,
  ) {}

  // ---- schemas by id -------------------------------------------------------

  async schemaById(id: number): Promise<{ schema: string; references?: SchemaReference[] }> {
    const stored = await this.visibleSchema(id);
    return withReferences({ schema: stored.schema }, stored.references);
  }

  async rawSchemaById(id: number): Promise<string> {
    return (await this.visibleSchema(id)).schema;
  }

  async subjectVersionsOfSchema(id: number, includeDeleted: boolean): Promise<Array<{ subject: string; version: number }>> {
    await this.visibleSchema(id);
    return (await this.store.versionsOfSchema(id, includeDeleted)).map((v) => ({ subject: v.subject, version: v.version }));
  }

  async subjectsOfSchema(id: number, includeDeleted: boolean): Promise<string[]> {
    await this.visibleSchema(id);
    return [...new Set((await this.store.versionsOfSchema(id, includeDeleted)).map((v) => v.subject))];
  }

  // ---- subjects ----------------------------------------------------------------

  async subjects(includeDeleted: boolean, prefix?: string): Promise<string[]> {
    const all = await this.store.listSubjects(includeDeleted);
    return prefix ? all.filter((s) => s.startsWith(prefix)) : all;
  }

  async versions(subject: string, includeDeleted: boolean): Promise<number[]> {
    const versions = await this.store.listVersions(subject, includeDeleted);
    if (versions.length === 0) throw RegistryErrors.subjectNotFound(subject);
    return versions.map((v) => v.version);
  }

  async version(subject: string, spec: VersionSpec, includeDeleted: boolean): Promise<SchemaVersionView> {
    const found = await this.resolveVersion(subject, spec, includeDeleted);
    return this.view(found);
  }

  /** `POST /subjects/{subject}`: is this schema registered under the subject, and as which version? */
  async lookup(subject: string, body: unknown, includeDeleted: boolean): Promise<SchemaVersionView> {
    const prepared = await this.prepare(body);
    const versions = await this.store.listVersions(subject, includeDeleted);
    if (versions.length === 0) throw RegistryErrors.subjectNotFound(subject);
    for (const version of [...versions].reverse()) {
      const stored = await this.store.getSchema(version.schemaId);
      if (stored?.fingerprint === prepared.fingerprint) return this.view(version);
    }
    throw RegistryErrors.schemaNotFound();
  }

  /**
   * `POST /subjects/{subject}/versions`. Returns the existing id when the
   * schema is already a live version of the subject; reuses the global id of
   * an identical schema registered elsewhere; otherwise checks compatibility
   * and allocates the next id. In IMPORT mode the body's `id`/`version` are
   * honoured and compatibility is not checked (migrations copy history as is).
   */
  async register(subject: string, body: unknown): Promise<{ id: number }> {
    assertSubject(subject);
    const request = asObject(body);
    const importId = optionalInteger(request['id'], 0, MAX_INT, (v) => RegistryErrors.unprocessable(`Invalid schema id ${String(v)}`));
    const importVersion = optionalInteger(request['version'], 1, MAX_INT, (v) => RegistryErrors.invalidVersion(String(v)));
    const mode = await this.effectiveMode(subject);
    if (mode === 'READONLY') throw RegistryErrors.operationNotPermitted(`Subject ${subject} is in read-only mode`);
    if (importId !== undefined || importVersion !== undefined) {
      if (mode !== 'IMPORT') throw RegistryErrors.operationNotPermitted(`Subject ${subject} is not in import mode`);
    } else if (mode !== 'READWRITE') {
      throw RegistryErrors.operationNotPermitted(`Subject ${subject} is not in read-write mode`);
    }
    const prepared = await this.prepare(request);

    return this.store.withWriteLock(async (tx) => {
      const versions = await this.store.listVersions(subject, true, tx);
      const live = versions.filter((v) => !v.deleted);
      const liveSchemas: StoredSchema[] = [];
      for (const version of live) liveSchemas.push(await this.mustGetSchema(version.schemaId, tx));
      const same = live.findIndex((v, i) => liveSchemas[i].fingerprint === prepared.fingerprint && (importId === undefined || importId === v.schemaId));
      if (same >= 0 && importVersion === undefined) return { id: live[same].schemaId };

      if (mode !== 'IMPORT') {
        const level = await this.effectiveCompatibility(subject, tx);
        const existing = await Promise.all(liveSchemas.map((s) => this.source(s, tx)));
        const result = checkAvroCompatibility({ schema: prepared.schema, dependencies: prepared.dependencies }, existing, level, {
          versions: live.map((v) => v.version),
        });
        if (!result.compatible) throw RegistryErrors.incompatible(subject, result.messages);
      }

      let id: number;
      if (importId !== undefined) {
        const occupant = await this.store.getSchema(importId, tx);
        if (occupant && occupant.fingerprint !== prepared.fingerprint) {
          throw RegistryErrors.operationNotPermitted(`Overwrite new schema with id ${importId} is not permitted.`);
        }
        if (!occupant) await this.store.insertSchema(tx, { id: importId, schemaType: 'AVRO', ...prepared });
        id = importId;
      } else {
        const ids = await this.store.findSchemaIds(prepared.fingerprint, tx);
        id = ids[0] ?? (await this.store.nextSchemaId(tx));
        if (ids.length === 0) await this.store.insertSchema(tx, { id, schemaType: 'AVRO', ...prepared });
      }
      const version = importVersion ?? (await this.store.nextVersion(tx, subject));
      await this.store.upsertVersion(tx, subject, version, id);
      // As Confluent does: a re-registered schema replaces its own soft-deleted older versions.
      const stale = versions.filter((v) => v.deleted && v.schemaId === id && v.version < version).map((v) => v.version);
      if (stale.length > 0) await this.store.hardDeleteVersions(tx, subject, stale);
      return { id };
    });
  }

  /** `DELETE /subjects/{subject}`: soft-deletes live versions, or hard-deletes soft-deleted ones. */
  async deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    await this.assertWritable(subject);
    return this.store.withWriteLock(async (tx) => {
      const versions = await this.store.listVersions(subject, true, tx);
      if (versions.length === 0) throw RegistryErrors.subjectNotFound(subject);
      const live = versions.filter((v) => !v.deleted);
      if (permanent && live.length > 0) throw RegistryErrors.subjectNotSoftDeleted(subject);
      if (!permanent && live.length === 0) throw RegistryErrors.subjectSoftDeleted(subject);
      const targets = permanent ? versions : live;
      for (const v of targets) await this.assertNotReferenced(subject, v.version, tx);
      const numbers = targets.map((v) => v.version);
      if (permanent) {
        await this.store.hardDeleteVersions(tx, subject, numbers);
      } else {
        await this.store.softDeleteVersions(tx, subject, numbers);
        // A subject with no live versions loses its own settings, as in Confluent.
        await this.store.deleteCompatibility(subject, tx);
        await this.store.deleteMode(subject, tx);
      }
      return numbers;
    });
  }

  /** `DELETE /subjects/{subject}/versions/{version}`. */
  async deleteVersion(subject: string, spec: VersionSpec, permanent: boolean): Promise<number> {
    await this.assertWritable(subject);
    return this.store.withWriteLock(async (tx) => {
      const versions = await this.store.listVersions(subject, true, tx);
      if (versions.length === 0) throw RegistryErrors.subjectNotFound(subject);
      const candidates = permanent ? versions : versions.filter((v) => !v.deleted);
      const target = spec === 'latest' ? candidates[candidates.length - 1] : versions.find((v) => v.version === spec);
      if (!target) throw RegistryErrors.versionNotFound(spec);
      if (permanent && !target.deleted) throw RegistryErrors.versionNotSoftDeleted(subject, target.version);
      if (!permanent && target.deleted) throw RegistryErrors.versionSoftDeleted(subject, target.version);
      await this.assertNotReferenced(subject, target.version, tx);
      if (permanent) {
        await this.store.hardDeleteVersions(tx, subject, [target.version]);
      } else {
        await this.store.softDeleteVersions(tx, subject, [target.version]);
        if (!versions.some((v) => !v.deleted && v.version !== target.version)) {
          await this.store.deleteCompatibility(subject, tx);
          await this.store.deleteMode(subject, tx);
        }
      }
      return target.version;
    });
  }

  // ---- compatibility -----------------------------------------------------------

  /**
   * `POST /compatibility/subjects/{subject}/versions[/{version}]`: checks
   * against one version, or (`spec` undefined) against the versions the
   * subject's level requires.
   */
  async testCompatibility(subject: string, spec: VersionSpec | undefined, body: unknown, verbose: boolean): Promise<{ is_compatible: boolean; messages?: string[] }> {
    const prepared = await this.prepare(body);
    const all = await this.store.listVersions(subject, true);
    const live = all.filter((v) => !v.deleted);
    let against: SubjectVersion[];
    if (spec === undefined) against = live;
    else if (spec === 'latest') against = live.slice(-1);
    else {
      if (all.length === 0) throw RegistryErrors.subjectNotFound(subject);
      const found = live.find((v) => v.version === spec);
      if (!found) throw RegistryErrors.versionNotFound(spec);
      against = [found];
    }
    const level = await this.effectiveCompatibility(subject);
    const existing: AvroSchemaSource[] = [];
    for (const v of against) existing.push(await this.source(await this.mustGetSchema(v.schemaId)));
    const result = checkAvroCompatibility({ schema: prepared.schema, dependencies: prepared.dependencies }, existing, level, {
      versions: against.map((v) => v.version),
    });
    return verbose ? { is_compatible: result.compatible, messages: result.messages } : { is_compatible: result.compatible };
  }

  async globalCompatibility(): Promise<CompatibilityLevel> {
    return (await this.store.getCompatibility(null)) ?? this.defaultCompatibility;
  }

  async subjectCompatibility(subject: string, defaultToGlobal: boolean): Promise<CompatibilityLevel> {
    const level = await this.store.getCompatibility(subject);
    if (level) return level;
    if (defaultToGlobal) return this.globalCompatibility();
    throw RegistryErrors.subjectConfigNotFound(subject);
  }

  async setCompatibility(subject: string | null, body: unknown): Promise<CompatibilityLevel> {
    if (subject !== null) assertSubject(subject);
    const request = asObject(body);
    const value = request['compatibility'] ?? request['compatibilityLevel'];
    if (!isCompatibilityLevel(value)) throw RegistryErrors.invalidCompatibility();
    const level = value.toUpperCase() as CompatibilityLevel;
    await this.store.setCompatibility(subject, level);
    return level;
  }

  /** Removes a subject-level (or the global) setting; answers the level that was in force. */
  async deleteCompatibility(subject: string | null): Promise<CompatibilityLevel> {
    if (subject === null) {
      const previous = await this.globalCompatibility();
      await this.store.deleteCompatibility(null);
      return previous;
    }
    const own = await this.store.getCompatibility(subject);
    if (!own && (await this.store.listVersions(subject, true)).length === 0) throw RegistryErrors.subjectNotFound(subject);
    const previous = own ?? (await this.globalCompatibility());
    await this.store.deleteCompatibility(subject);
    return previous;
  }

  // ---- modes -------------------------------------------------------------------

  async globalMode(): Promise<RegistryMode> {
    return (await this.store.getMode(null)) ?? 'READWRITE';
  }

  async subjectMode(subject: string, defaultToGlobal: boolean): Promise<RegistryMode> {
    const mode = await this.store.getMode(subject);
    if (mode) return mode;
    if (defaultToGlobal) return this.globalMode();
    throw RegistryErrors.subjectModeNotFound(subject);
  }

  /**
   * Sets a mode. Entering IMPORT requires the scope to hold no live schemas
   * unless `force` (Confluent's guard against ids colliding with existing ones).
   */
  async setMode(subject: string | null, body: unknown, force: boolean): Promise<RegistryMode> {
    if (subject !== null) assertSubject(subject);
    const value = asObject(body)['mode'];
    const mode = typeof value === 'string' ? (value.toUpperCase() as RegistryMode) : undefined;
    if (!mode || !MODES.includes(mode)) throw RegistryErrors.invalidMode(value);
    return this.store.withWriteLock(async (tx) => {
      const current = subject === null ? await this.globalMode() : await this.effectiveMode(subject, tx);
      if (mode === 'IMPORT' && current !== 'IMPORT' && !force && (await this.store.hasLiveVersions(subject, tx))) {
        throw RegistryErrors.operationNotPermitted('Cannot import since found existing subjects');
      }
      await this.store.setMode(subject, mode, tx);
      return mode;
    });
  }

  async deleteMode(subject: string | null): Promise<RegistryMode> {
    if (subject === null) {
      const previous = await this.globalMode();
      await this.store.deleteMode(null);
      return previous;
    }
    const own = await this.store.getMode(subject);
    if (!own && (await this.store.listVersions(subject, true)).length === 0) throw RegistryErrors.subjectNotFound(subject);
    const previous = own ?? (await this.globalMode());
    await this.store.deleteMode(subject);
    return previous;
  }

  async ready(): Promise<void> {
    await this.store.ping();
  }

  // ---- internals ---------------------------------------------------------------

  private async effectiveMode(subject: string, q?: PoolClient): Promise<RegistryMode> {
    return (await this.store.getMode(subject, q)) ?? (await this.store.getMode(null, q)) ?? 'READWRITE';
  }

  private async effectiveCompatibility(subject: string, q?: PoolClient): Promise<CompatibilityLevel> {
    return (await this.store.getCompatibility(subject, q)) ?? (await this.store.getCompatibility(null, q)) ?? this.defaultCompatibility;
  }

  private async assertWritable(subject: string): Promise<void> {
    if ((await this.effectiveMode(subject)) === 'READONLY') throw RegistryErrors.operationNotPermitted(`Subject ${subject} is in read-only mode`);
  }

  private async assertNotReferenced(subject: string, version: number, q: PoolClient): Promise<void> {
    if ((await this.store.referencingSchemaIds(subject, version, q)).length > 0) throw RegistryErrors.referenceExists(subject, version);
  }

  /** A schema is served by id while some subject version (live or soft-deleted) still holds it. */
  private async visibleSchema(id: number): Promise<StoredSchema> {
    const stored = await this.store.getSchema(id);
    if (!stored || (await this.store.versionsOfSchema(id, true)).length === 0) throw RegistryErrors.schemaNotFound(id);
    return stored;
  }

  private async mustGetSchema(id: number, q?: PoolClient): Promise<StoredSchema> {
    const stored = await this.store.getSchema(id, q);
    if (!stored) throw RegistryErrors.schemaNotFound(id);
    return stored;
  }

  private async resolveVersion(subject: string, spec: VersionSpec, includeDeleted: boolean): Promise<SubjectVersion> {
    const versions = await this.store.listVersions(subject, true);
    if (versions.length === 0 || (!includeDeleted && versions.every((v) => v.deleted))) throw RegistryErrors.subjectNotFound(subject);
    const visible = includeDeleted ? versions : versions.filter((v) => !v.deleted);
    const found = spec === 'latest' ? visible[visible.length - 1] : visible.find((v) => v.version === spec);
    if (!found) throw RegistryErrors.versionNotFound(spec);
    return found;
  }

  private async view(version: SubjectVersion): Promise<SchemaVersionView> {
    const stored = await this.mustGetSchema(version.schemaId);
    return withReferences({ subject: version.subject, version: version.version, id: stored.id, schema: stored.schema }, stored.references);
  }

  private async source(stored: StoredSchema, q?: PoolClient): Promise<AvroSchemaSource> {
    return { schema: stored.schema, dependencies: await this.dependencies(stored.references, q) };
  }

  /** Texts of the schemas the references name, transitively, dependencies first. */
  private async dependencies(references: readonly SchemaReference[], q?: PoolClient, seen = new Set<number>()): Promise<string[]> {
    const out: string[] = [];
    for (const reference of references) {
      const version = await this.resolveReference(reference, q);
      if (seen.has(version.schemaId)) continue;
      seen.add(version.schemaId);
      const stored = await this.mustGetSchema(version.schemaId, q);
      out.push(...(await this.dependencies(stored.references, q, seen)), stored.schema);
    }
    return out;
  }

  private async resolveReference(reference: SchemaReference, q?: PoolClient): Promise<SubjectVersion> {
    const versions = await this.store.listVersions(reference.subject, false, q);
    const found = reference.version === -1 ? versions[versions.length - 1] : versions.find((v) => v.version === reference.version);
    if (!found) {
      throw RegistryErrors.invalidSchema(`reference ${reference.name} to subject '${reference.subject}' version ${reference.version} not found`);
    }
    return found;
  }

  /** Validates a request's schemaType/schema/references and parses the schema with avsc. */
  private async prepare(body: unknown): Promise<PreparedSchema> {
    const request = asObject(body);
    const schemaType = request['schemaType'];
    if (schemaType !== undefined && schemaType !== null && String(schemaType).toUpperCase() !== 'AVRO') {
      throw RegistryErrors.invalidSchema(`schema type ${String(schemaType)} is not supported by this registry (only AVRO)`);
    }
    const text = request['schema'];
    if (typeof text !== 'string' || text.trim() === '') throw RegistryErrors.invalidSchema('Empty schema');
    const references = parseReferences(request['references']);
    const dependencies = await this.dependencies(references);
    try {
      const parsed = parseAvroSchema(text, dependencies as AvroSchemaText[]);
      return { schema: parsed.canonical, references, dependencies, fingerprint: schemaFingerprint(parsed.normalized, references) };
    } catch (error) {
      if (error instanceof InvalidAvroSchemaError) throw RegistryErrors.invalidSchema(error.message);
      throw error;
    }
  }
}

function withReferences<T extends object>(value: T, references: readonly SchemaReference[]): T & { references?: SchemaReference[] } {
  return references.length > 0 ? { ...value, references: [...references] } : value;
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || body === undefined) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw RegistryErrors.unprocessable('Request body must be a JSON object');
  return body as Record<string, unknown>;
}

function optionalInteger(value: unknown, min: number, max: number, invalid: (v: unknown) => Error): number | undefined {
  // Confluent's request entities default id/version to -1/0, meaning "not given".
  if (value === undefined || value === null || value === -1 || (value === 0 && min === 1)) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(value);
  return value;
}

function parseReferences(value: unknown): SchemaReference[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw RegistryErrors.invalidSchema('references must be an array');
  return value.map((item: unknown, index) => {
    const ref = item as Record<string, unknown> | null;
    if (!ref || typeof ref['name'] !== 'string' || typeof ref['subject'] !== 'string' || !Number.isInteger(ref['version'])) {
      throw RegistryErrors.invalidSchema(`reference #${index + 1} needs a string name, a string subject and an integer version`);
    }
    return { name: ref['name'], subject: ref['subject'], version: ref['version'] as number };
  });
}

function assertSubject(subject: string): void {
  // eslint-disable-next-line no-control-regex
  if (subject.trim() === '' || /[\u0000-\u001f]/.test(subject)) throw RegistryErrors.invalidSubject(subject);
}
