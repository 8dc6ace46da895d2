// Resolves the @clinmesh/<lib> aliases of tsconfig.base.json inside the compiled
// tree (dist/), so compiled services, tests and benches load libs exactly as
// the TypeScript sources name them. Loaded with `node -r tools/register.js`.
'use strict';
const path = require('node:path');
require('reflect-metadata');
require('tsconfig-paths').register({
  baseUrl: path.resolve(__dirname, '..', 'dist'),
  paths: { '@clinmesh/*': ['libs/*/src/index.js'] },
});
if (!process.env.CLINMESH_NO_SOURCE_MAPS) process.setSourceMapsEnabled(true);
