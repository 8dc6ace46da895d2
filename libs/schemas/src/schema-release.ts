import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventSchemaName, SchemaCatalog, findSchemasDir } from './schema-catalog';

/**
 * Released schema versions kept in the repository
 * (`schemas/released/<Name>/v<N>.avsc`, self-contained), oldest first. The
 * compatibility check in `npm test` reads every version of a schema that was
 * ever released, as a BACKWARD_TRANSITIVE registry would.
 */
export function releasedDir(schemasDir = findSchemasDir()): string {
  return join(schemasDir, 'released');
}

export function releasedVersions(name: EventSchemaName, dir = releasedDir()): Array<{ version: number; schema: string }> {
  const folder = join(dir, name);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .map((f) => /^v(\d+)\.avsc$/.exec(f))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ version: Number(m[1]), schema: readFileSync(join(folder, m[0]), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/** Writes the catalog's current schema as the next released version when it differs from the latest one. */
export function releaseCurrentSchemas(catalog: SchemaCatalog, dir = releasedDir()): string[] {
  const written: string[] = [];
  for (const name of catalog.names()) {
    const current = `${JSON.stringify(catalog.schema(name), null, 2)}\n`;
    const versions = releasedVersions(name, dir);
    const latest = versions[versions.length - 1];
    if (latest && JSON.stringify(JSON.parse(latest.schema)) === JSON.stringify(JSON.parse(current))) continue;
    mkdirSync(join(dir, name), { recursive: true });
    const file = join(dir, name, `v${(latest?.version ?? 0) + 1}.avsc`);
    writeFileSync(file, current);
    written.push(file);
  }
  return written;
}
