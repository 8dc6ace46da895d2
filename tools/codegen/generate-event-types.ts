import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findSchemasDir, generateTypeScript, loadSchemaCatalog } from '@clinmesh/schemas';

/** `node tools/run.js tools/codegen/generate-event-types.js` rewrites libs/schemas/src/generated/events.ts. */
const schemasDir = findSchemasDir();
const target = join(schemasDir, '..', 'libs', 'schemas', 'src', 'generated', 'events.ts');
writeFileSync(target, generateTypeScript(loadSchemaCatalog(schemasDir)));
process.stdout.write(`wrote ${target}\n`);
