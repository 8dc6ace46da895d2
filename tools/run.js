// `node tools/run.js <path-under-dist-without-dist>` runs a compiled entry point
// with the @clinmesh/* aliases resolvable. Used by the npm scripts.
'use strict';
const path = require('node:path');
require('./register');
const target = process.argv[2];
if (!target) { console.error('usage: node tools/run.js <file.js> [args]'); process.exit(2); }
process.argv.splice(2, 1);
require(path.resolve(__dirname, '..', 'dist', target));
