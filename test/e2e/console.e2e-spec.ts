/// <reference lib="dom" />
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { HEADER } from '@clinmesh/event-runtime';
import { ManagedProcess, freePort } from '@clinmesh/embedded-platform';
import { loadSchemaCatalog } from '@clinmesh/schemas';
import { ALL_SCOPES, SCOPES } from '@clinmesh/security';
import { TestPipeline, WebhookReceiver, adtMessage, waitFor } from '@clinmesh/testing';

const ROOT = join(__dirname, '..', '..', '..');
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** A read-only operator: can look, cannot act (no admin:operate, no write scopes). */
const READ_ONLY_SCOPES = [SCOPES.lineageRead, SCOPES.auditRead, SCOPES.metricsRead, SCOPES.tasksRead, SCOPES.reviewRead, SCOPES.ingestRead, SCOPES.rejectionsRead, SCOPES.decisionsRead, SCOPES.personsRead];

/**
 * Issue 14 proofs in a real browser (Debian chromium, headless, driven by
 * playwright-core) against the console process and the six real services:
 * sign-in, lineage of an HL7 message across all six stages, dead letter →
 * redrive → flows, identity review, claim and complete a task, and a
 * read-only operator who gets no redrive button and is refused by the server.
 * Screenshots of each page go to test/artifacts/; axe-core checks each main page.
 */
describe('operations console in a browser', { timeout: 900_000 }, () => {
  let pipeline: TestPipeline;
  let webhook: WebhookReceiver;
  let consoleProcess: ManagedProcess;
  let consoleUrl: string;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let messageId: string;
  let poisonDeadLetterId: string;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    pipeline = await TestPipeline.start('console');
    webhook = await pipeline.subscribeWebhook();
    const port = await freePort();
    consoleUrl = `http://127.0.0.1:${port}`;
    consoleProcess = new ManagedProcess({
      name: 'console',
      entry: 'apps/console/src/main.js',
      logFile: join(pipeline.env.platformDir, 'logs', pipeline.name, 'console.log'),
      env: {
        CONSOLE_HTTP_PORT: String(port),
        CONSOLE_STATIC_DIR: join(ROOT, 'dist', 'console-web'),
        CONSOLE_SAMPLE_MS: '1000',
        CLINMESH_AUTH_SECRET: pipeline.env.authSecret,
        CLINMESH_RUNTIME_FILE: join(tmpdir(), 'clinmesh-console-e2e-no-runtime-file.json'),
        ...Object.fromEntries(Object.entries(pipeline.urls).map(([s, url]) => [`CONSOLE_${s.toUpperCase().replace(/-/g, '_')}_URL`, url])),
      },
    });
    consoleProcess.start();
    await consoleProcess.waitForHttp(`${consoleUrl}/`, 60000);
    profileDir = profileDirFor('chromium');
    context = await chromium.launchPersistentContext(profileDir, { executablePath: '/usr/bin/chromium', headless: true, bypassCSP: true, args: CHROMIUM_ARGS });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (d) => void d.accept(d.message().includes('outcome') ? 'done' : 'console test'));
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await consoleProcess?.stop();
    await webhook?.stop();
    await pipeline?.stop();
  });

  it('signs in with a bearer token into a server-side session (HttpOnly SameSite cookie, CSRF on writes)', async () => {
    await page.goto(consoleUrl);
    await page.getByLabel('Bearer token').waitFor();
    await check(page, 'sign-in');
    await page.getByLabel('Bearer token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /401/);

    // A copy of ALL_SCOPES: the pipeline caches its own all-scopes token under another subject.
    await signIn(page, await pipeline.token([...ALL_SCOPES], 'console-admin'));
    assert.match(await page.getByTestId('who').innerText(), /console-admin \(admin\)/);
    const [cookie] = (await context.cookies(consoleUrl)).filter((c) => c.name === 'cm_console_session');
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie.includes('cm_console_session')), false, 'the page script cannot read the session');
    const noCsrf = await page.evaluate(async () => (await fetch('/api/dead-letters/redrive', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
    assert.equal(noCsrf, 403, 'a state-changing call without the CSRF header is refused');
    const anonymous = await fetch(`${consoleUrl}/api/lineage?kind=control&q=x`);
    assert.equal(anonymous.status, 401, 'no session, no data');
    await page.goto(`${consoleUrl}/#/pipeline`);
    await page.getByRole('table', { name: 'Stages by tier' }).waitFor();
    await check(page, 'pipeline');
  });

  it('finds an HL7 message by control id and shows all six stages with timings, the named fields and its delivery', async () => {
    const sent = await pipeline.sendHl7(adtMessage({ controlId: 'CONSOLE-0001', mrn: 'CONSOLE-MRN-1', family: 'LINEAGEVIEW', given: 'PAULA' }));
    assert.equal(sent.status, 200, sent.ack);
    messageId = sent.messageId!;
    await waitFor(() => webhook.byCorrelation(messageId)[0], { what: 'the webhook delivery', timeoutMs: 90000 });
    await waitFor(async () => (await pipeline.query('notifier', `SELECT 1 FROM nf_delivery WHERE correlation_id = $1 AND status = 'delivered'`, [messageId])).length >= 1, { what: 'delivery recorded' });

    await page.goto(`${consoleUrl}/#/lineage`);
    await page.getByLabel('Search by').selectOption('control');
    await page.getByRole('textbox', { name: 'Value' }).fill('CONSOLE-0001');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('lineage').waitFor();
    await page.getByTestId('stage-delivery').locator('tr[data-kind="delivery"]').waitFor();
    for (const stage of ['ingest', 'identity', 'normalization', 'policy', 'task', 'delivery']) {
      const section = page.getByTestId(`stage-${stage}`);
      assert.doesNotMatch(await section.innerText(), /not available|Nothing recorded/, `${stage} has a record`);
      assert.match(await page.getByTestId(`timing-${stage}`).innerText(), /^\d+ ms$/, `${stage} has a timing`);
    }
    assert.match(await page.getByTestId('stage-policy').innerText(), /policy-decision/);
    assert.match(await page.getByTestId('stage-task').innerText(), /admission-notice/);
    assert.match(await page.getByTestId('stage-delivery').innerText(), /delivered after 1 attempt/);
    const fields = page.getByRole('table', { name: 'HL7 v2 fields' });
    const pid5 = fields.locator('tr', { hasText: 'PID-5' });
    assert.match(await pid5.innerText(), /Patient Name/);
    assert.doesNotMatch(await page.getByTestId('lineage').innerText(), /LINEAGEVIEW/, 'the patient name is masked by default');
    await check(page, 'lineage');

    await page.getByLabel('Purpose of use').selectOption('TREAT');
    await page.getByRole('button', { name: 'Reveal patient identifiers' }).click();
    await page.getByText('Revealed for TREAT (audited)').waitFor();
    assert.match(await pid5.innerText(), /LINEAGEVIEW\^PAULA/);
    const audited = await pipeline.query('ingest', `SELECT actor, purpose FROM cm_audit WHERE action = 'read-lineage' AND resource = $1 AND purpose = 'TREAT'`, [`lineage/${messageId}`]);
    assert.deepEqual(audited.map((a) => a.actor), ['console-admin'], 'the reveal is audited with the user and purpose');
  });

  it('shows a dead letter with its reason, redrives it from the page, and it flows', async () => {
    const unknownId = 910000 + Math.floor(Math.random() * 80000);
    await producePoison(pipeline, unknownId, ['console-poison-1', 'console-poison-2']);
    await page.goto(`${consoleUrl}/#/dead-letters`);
    const row = page.locator('tr[data-testid="dead-letter"][data-correlation="console-poison-1"]');
    await waitFor(async () => {
      await page.getByRole('button', { name: 'Apply' }).click();
      return (await row.count()) === 1;
    }, { what: 'the dead letter on the page', timeoutMs: 60000 });
    assert.match(await row.innerText(), /normalization/);
    assert.match(await row.innerText(), /SERDE\.UNKNOWN_SCHEMA_ID/);
    await row.getByRole('button', { name: 'Payload' }).click();
    await page.getByText('Not decodable through the registry').waitFor();
    await check(page, 'dead-letters');

    await importSchema(pipeline, unknownId);
    await row.getByRole('button', { name: 'Redrive' }).click();
    await page.getByText(/Redrive of .*: redriven/).waitFor();
    // The dead letter opened an exception task under the same correlation id before the redrive; what the
    // redrive must produce is the clinical task, and the exception task closed as redriven.
    const EXCEPTION = 'dead-letter-exception';
    const tasks = await waitFor(async () => {
      const all = await pipeline.tasks({ correlationId: 'console-poison-1' });
      return all.some((t) => t.workflow !== EXCEPTION) && all.find((t) => t.workflow === EXCEPTION)?.state === 'redriven' ? all : undefined;
    }, { what: 'the redriven event to become a task and its exception task to close', timeoutMs: 60000, explain: () => whereIs(pipeline, 'console-poison-1') });
    assert.equal(tasks.filter((t) => t.workflow !== EXCEPTION).length, 1, 'one clinical task from the redriven event');
    assert.deepEqual(tasks.filter((t) => t.workflow === EXCEPTION).map((t) => t.status), ['completed']);
    const [dl] = await pipeline.query('normalization', `SELECT id, status FROM cm_dead_letters WHERE headers->>'${HEADER.correlationId}' = 'console-poison-1'`);
    assert.equal(dl.status, 'redriven');
    const [other] = await pipeline.query('normalization', `SELECT id, status FROM cm_dead_letters WHERE headers->>'${HEADER.correlationId}' = 'console-poison-2'`);
    assert.equal(other.status, 'dead', 'only the one redriven');
    poisonDeadLetterId = other.id;
  });

  it('resolves an identity review item side by side', async () => {
    await pipeline.sendHl7(adtMessage({ controlId: 'CONSOLE-RV-1', mrn: 'CRV-100', family: 'QUINTERO', given: 'MARISOL', birthDate: '19660909' }));
    await pipeline.sendHl7(adtMessage({ controlId: 'CONSOLE-RV-2', mrn: 'CRV-200', sendingApplication: 'CLINICB', family: 'QUINTERO', given: 'MARISOL', birthDate: '19930101', personKey: 'CRV-100' })
      .replace('^^^TESTHOSP^MR', '^^^CLINB^MR'));
    const item = await waitFor(async () => (await pipeline.request('identity-resolution', 'GET', '/v1/review-items')).json().items[0], { what: 'a review item', timeoutMs: 60000 });
    await page.goto(`${consoleUrl}/#/review`);
    await page.getByRole('table', { name: 'Open review items' }).locator('tr', { hasText: item.id }).getByRole('button', { name: 'Review' }).click();
    await page.getByRole('region', { name: 'Review item side by side' }).waitFor();
    await check(page, 'review');
    await page.getByRole('button', { name: 'Link to candidate 1' }).click();
    await page.getByText('Decided: linked.').waitFor();
    const after = (await pipeline.request('identity-resolution', 'GET', `/v1/review-items/${item.id}`)).json();
    assert.equal(after.status, 'linked');
  });

  it('claims, starts and completes a task from the worklist', async () => {
    await page.goto(`${consoleUrl}/#/worklist`);
    const row = page.locator(`tr[data-testid="task"][data-correlation="${messageId}"]`);
    await row.waitFor();
    await check(page, 'worklist');
    for (const [action, state] of [['claim', 'claimed'], ['start', 'in-progress'], ['complete', 'completed']] as const) {
      await row.getByRole('button', { name: action, exact: true }).click();
      await page.getByText(new RegExp(`${action}: task .* is now ${state}`)).waitFor();
    }
    const [task] = await pipeline.tasks({ correlationId: messageId, status: 'completed' });
    assert.equal(task.state, 'completed');
    assert.equal(task.owner, 'console-admin');
  });

  it('audit: browses the trail and verifies every hash chain', async () => {
    await page.goto(`${consoleUrl}/#/audit`);
    await page.getByRole('table', { name: 'Audit entries' }).waitFor();
    await page.getByRole('button', { name: 'Verify every hash chain' }).click();
    const results = page.getByRole('list', { name: 'Verification results' });
    await results.waitFor();
    assert.equal(await results.locator('li.ok').count(), 6, await results.innerText());
    await check(page, 'audit');
  });

  it('one request id from the console to the services: answered, in the problem body, and in the console\'s and the service\'s access lines', async () => {
    const status = await page.evaluate(async () => (await fetch('/api/lineage?kind=control&q=REQID-NOWHERE', { headers: { 'x-request-id': 'console-e2e-lineage-1' } })).status);
    assert.equal(status, 200);
    const anonymous = await fetch(`${consoleUrl}/api/lineage?kind=control&q=x`, { headers: { 'x-request-id': 'console-e2e-anonymous-1' } });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('x-request-id'), 'console-e2e-anonymous-1');
    assert.equal(((await anonymous.json()) as { requestId: string }).requestId, 'console-e2e-anonymous-1');
    const accessLine = (file: string, id: string) => () => readFileSync(join(pipeline.env.platformDir, 'logs', pipeline.name, file), 'utf8')
      .split('\n').filter((l) => l.includes('"msg":"http request"')).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === id);
    const consoleLine = await waitFor(accessLine('console.log', 'console-e2e-lineage-1'), { what: 'the console\'s access line' });
    assert.deepEqual([consoleLine.route, consoleLine.status, consoleLine.subject], ['/api/lineage', 200, 'console-admin']);
    // The console looked the control id up at ingest on the user's behalf, under the same request id.
    const ingestLine = await waitFor(accessLine('ingest.log', 'console-e2e-lineage-1'), { what: 'ingest\'s access line for the console\'s call' });
    assert.deepEqual([ingestLine.method, ingestLine.route, ingestLine.subject], ['GET', '/v1/messages', 'console-admin']);
    assert.ok(!JSON.stringify([consoleLine, ingestLine]).includes('REQID-NOWHERE'), 'queries are not logged');
  });

  it('a read-only operator sees no redrive button, and the server refuses a redrive from them anyway', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, await pipeline.token(READ_ONLY_SCOPES, 'console-viewer'));
    assert.match(await page.getByTestId('who').innerText(), /read-only operator/);
    await page.goto(`${consoleUrl}/#/dead-letters`);
    const row = page.locator('tr[data-testid="dead-letter"][data-correlation="console-poison-2"]');
    await row.waitFor();
    assert.equal(await row.getByRole('button', { name: 'Redrive' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Redrive all matching' }).count(), 0);
    await check(page, 'dead-letters-read-only');
    const refused = await page.evaluate(async (id) => {
      const session = (await (await fetch("/api/session")).json()) as { csrf: string };
      const r = await fetch(`/api/dead-letters/normalization/${id}/redrive`, { method: 'POST', headers: { 'x-csrf-token': session.csrf } });
      return { status: r.status, code: ((await r.json()) as { code: string }).code };
    }, poisonDeadLetterId);
    assert.deepEqual(refused, { status: 403, code: 'CONSOLE.ADMIN_ONLY' });
    const direct = await fetch(`${pipeline.urls.normalization}/v1/admin/dead-letters/${poisonDeadLetterId}/redrive`, { method: 'POST', headers: { authorization: `Bearer ${await pipeline.token(READ_ONLY_SCOPES, 'console-viewer')}` } });
    assert.equal(direct.status, 403, 'and the service refuses the token itself');
    const [still] = await pipeline.query('normalization', 'SELECT status FROM cm_dead_letters WHERE id = $1', [poisonDeadLetterId]);
    assert.equal(still.status, 'dead');
  });
});

function profileDirFor(what: string): string {
  return mkdtempSync(join(tmpdir(), `clinmesh-console-${what}-`));
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Bearer token').waitFor();
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor();
}

/** Screenshot to test/artifacts/ and an axe-core run: a serious or critical violation fails the test. */
async function check(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${name}: accessibility violations ${JSON.stringify(bad)}`);
}

/**
 * Where a correlation id's events are in each stage's outbox after normalization — pending, or published and
 * to which topic — with each stage's consumer lag: what a failed wait for the redriven event reports.
 */
async function whereIs(pipeline: TestPipeline, correlationId: string): Promise<string> {
  const parts: string[] = [];
  for (const stage of ['normalization', 'policy', 'task'] as const) {
    const rows = await pipeline.query(stage, `SELECT 'pending' AS state, topic FROM cm_outbox WHERE headers->>$1 = $2
      UNION ALL SELECT 'published', topic FROM cm_outbox_published WHERE headers->>$1 = $2`, [HEADER.correlationId, correlationId]);
    const consumers = (await pipeline.request(stage, 'GET', '/v1/admin/consumers')).text.slice(0, 600);
    parts.push(`${stage}: ${rows.map((r) => `${r.state} ${r.topic}`).join(', ') || 'nothing in its outbox'}; consumers ${consumers}`);
  }
  const tasks = await pipeline.tasks({ correlationId });
  parts.unshift(`tasks of ${correlationId}: ${JSON.stringify(tasks.map((t) => ({ workflow: t.workflow, status: t.status, state: t.state, tier: t.tier })))}`);
  return parts.join(' | ');
}

/** IdentifiedEvents written with a schema id the registry does not know: normalization dead-letters them. */
async function producePoison(pipeline: TestPipeline, unknownId: number, correlationIds: string[]): Promise<void> {
  const catalog = loadSchemaCatalog();
  const topic = 'clinical.identified.routine';
  const identified = (correlationId: string) => ({
    eventId: `ev-${correlationId}`, correlationId, causationId: `cause-${correlationId}`, epid: 'EP-CONSOLE-POISON', tier: 'routine' as const,
    identity: { method: 'deterministic-identifier', score: null, personCreated: false },
    ingested: {
      eventId: `ing-${correlationId}`, correlationId, receivedAt: Date.now(), tier: 'routine' as const, triageRule: 'test', source: { system: 'TEST', facility: 'T', channel: 'HTTP' as const },
      format: 'HL7V2' as const, messageType: 'ADT^A08', controlId: correlationId, version: '2.5.1', sourcePatientKey: 'k', patientIdentifiers: [],
      contentType: 'x-application/hl7-v2+er7', raw: Buffer.from('MSH|...'),
    },
  });
  const wire = (value: unknown) => {
    const header = Buffer.alloc(5);
    header.writeInt32BE(unknownId, 1);
    return Buffer.concat([header, catalog.type('IdentifiedEvent').toBuffer(value)]);
  };
  const producer = pipeline.kafka().producer();
  await producer.connect();
  await producer.send({
    topic, acks: -1,
    messages: correlationIds.map((id) => ({
      key: 'EP-CONSOLE-POISON', value: wire(identified(id)),
      headers: { [HEADER.eventId]: `ev-${id}`, [HEADER.correlationId]: id, [HEADER.tier]: 'routine', [HEADER.receivedAt]: String(Date.now()) },
    })),
  });
  await producer.disconnect();
}

/** The fix an operator makes: import the producer's schema under the id it used (Confluent IMPORT mode). */
async function importSchema(pipeline: TestPipeline, unknownId: number): Promise<void> {
  const catalog = loadSchemaCatalog();
  const subject = `imported-${unknownId}-value`;
  const auth = `Basic ${Buffer.from(pipeline.env.registryBasicAuth).toString('base64')}`;
  const mode = await fetch(`${pipeline.env.registryUrl}/mode/${subject}`, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'IMPORT' }) });
  assert.equal(mode.status, 200, await mode.text());
  const imported = await fetch(`${pipeline.env.registryUrl}/subjects/${subject}/versions`, {
    method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ schema: JSON.stringify(catalog.schema('IdentifiedEvent')), id: unknownId, version: 1 }),
  });
  assert.equal(imported.status, 200, await imported.text());
  void SchemaRegistry;
}
