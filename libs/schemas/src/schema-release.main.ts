import { loadSchemaCatalog } from './schema-catalog';
import { releaseCurrentSchemas } from './schema-release';

/** `node tools/run.js libs/schemas/src/schema-release.main.js` — snapshot changed schemas into schemas/released/ when releasing. */
const written = releaseCurrentSchemas(loadSchemaCatalog());
process.stdout.write(written.length ? `released:\n${written.join('\n')}\n` : 'no schema changed since the last release\n');
