import { writeFileSync } from 'node:fs';
import { asyncApiPath, asyncApiYaml } from './asyncapi.document';

/** Regenerates docs/asyncapi.yaml (a unit test fails when the committed file is stale). */
writeFileSync(asyncApiPath(), asyncApiYaml());
process.stdout.write(`wrote ${asyncApiPath()}\n`);
