// Runs the whole suite on the compiled tree with Node's built-in test runner:
//   1. unit tests (*.spec.js, no I/O),
//   2. integration tests (*.int-spec.js) and end-to-end tests (test/**/*.e2e-spec.js)
//      against one embedded platform started here: PostgreSQL, the schema registry
//      (and a Kafka-protocol mock cluster per e2e file, started by the test itself).
// `--unit` runs only the unit tests. Extra arguments filter files by substring.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { spawn } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

// Only files whose TypeScript source still exists (dist/ may hold stale output of deleted files).
const sourceExists = (file) => fs.existsSync(path.join(root, path.relative(dist, file)).replace(/\.js$/, '.ts'));
const all = walk(dist).filter((f) => f.endsWith('.js') && sourceExists(f)).filter((f) => !filters.length || filters.some((x) => f.includes(x)));
const unit = all.filter((f) => f.endsWith('.spec.js'));
const integration = all.filter((f) => f.endsWith('.int-spec.js'));
const e2e = all.filter((f) => f.endsWith('.e2e-spec.js'));

// Stopped by a signal (Ctrl-C, CI timeout): stop the test files and the platform instead of orphaning them.
let current = null;
let stopPlatform = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    current?.kill('SIGTERM');
    Promise.resolve(stopPlatform?.()).finally(() => process.exit(130));
  });
}

function runNodeTest(files, env, concurrency) {
  return new Promise((resolve) => {
    if (!files.length) return resolve({ code: 0 });
    const child = current = spawn(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files], {
      cwd: root,
      env: { ...process.env, ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} -r ${path.join(root, 'tools', 'register.js')}`.trim() },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // The summary lines (ℹ pass N …) are read line by line as they stream: on a failure the reporter
    // prints the failing tests' details after them, however long those are.
    const summary = { pass: 0, fail: 0, cancelled: 0 };
    let partial = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        const m = /^ℹ (pass|fail|cancelled) (\d+)\s*$/.exec(line);
        if (m) summary[m[1]] = Number(m[2]);
      }
    });
    child.on('exit', (code) => {
      // A test cancelled because its suite's hook failed did not pass either: counted with the failures.
      resolve({ code: code ?? 1, pass: summary.pass, fail: summary.fail + summary.cancelled });
    });
  });
}

async function main() {
  const started = Date.now();
  const totals = { pass: 0, fail: 0 };
  const add = (r) => { totals.pass += r.pass ?? 0; totals.fail += r.fail ?? 0; return r.code; };
  let failed = false;
  console.log(`clinmesh tests: ${unit.length} unit, ${unitOnly ? 0 : integration.length} integration, ${unitOnly ? 0 : e2e.length} end-to-end files`);
  failed = add(await runNodeTest(unit, {}, 2)) !== 0 || failed;

  if (!unitOnly && (integration.length || e2e.length)) {
    require('./register');
    const { startEmbeddedPlatform } = require(path.join(dist, 'libs/embedded-platform/src/index.js'));
    // One platform directory per run, so concurrent runs (several engineers on one machine) never share a server.
    const dir = path.join(root, '.clinmesh', `test-platform-${process.pid}`);
    fs.rmSync(dir, { recursive: true, force: true });
    console.log('starting the embedded platform for integration tests…');
    const platform = await startEmbeddedPlatform({ dir, fast: true });
    stopPlatform = () => platform.stop();
    const env = require(path.join(dist, 'libs/testing/src/index.js')).testEnvironmentVariables(platform);
    try {
      failed = add(await runNodeTest(integration, env, 1)) !== 0 || failed;
      failed = add(await runNodeTest(e2e, env, 1)) !== 0 || failed;
    } finally {
      await platform.stop();
      // Keep the logs of a failed run for diagnosis; drop the rest.
      if (!failed) fs.rmSync(dir, { recursive: true, force: true });
      else console.log(`logs of this run: ${path.join(dir, 'logs')}`);
    }
  }
  console.log(`\nclinmesh tests finished in ${Math.round((Date.now() - started) / 1000)} s`);
  console.log(`${totals.pass} passed, ${totals.fail} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
