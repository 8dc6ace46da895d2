import { createServer, Server } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { NextFunction, Request, Response } from 'express';
import { AccessTokens, Principal } from '@clinmesh/security';
import { Logger, createLogger, requestIds } from '@clinmesh/observability';
import { decodeJwt } from 'jose';
import { CONSOLE_SERVICES, ConsoleConfig, ConsoleService } from '../../config/console.config';
import { Session, SessionStore, csrfMatches } from '../../domain/session';
import { maskPatientData } from '../../domain/masking';
import { Caller, ServiceClient, ServiceReply } from '../services/service-client';
import { LineageComposer, LineageQueryKind, problemText } from '../../application/lineage.composer';
import { PipelineMonitor } from '../../application/pipeline.monitor';

export const SESSION_COOKIE = 'cm_console_session';
const PURPOSES = ['TREAT', 'HPAYMT', 'HOPERAT', 'HRESCH', 'PUBHLTH', 'BTG', 'HSYSADMIN'];

/** `requestId` set by requestIds; `principal` (the session's subject) named in the request's access line. */
type SessionRequest = Request & { session?: Session; requestId?: string; principal?: { subject: string } };

export interface RunningConsole {
  url: string;
  server: Server;
  sessions: SessionStore;
  stop(): Promise<void>;
}

/**
 * The console backend: a server-side session per user (HttpOnly SameSite=Strict
 * cookie, CSRF header on every state-changing call, idle expiry) and a JSON API
 * that aggregates the services' APIs with the user's own token. Admin-only
 * actions are checked here AND by each service's scopes.
 */
export async function startConsole(config: ConsoleConfig, options: { logger?: Logger } = {}): Promise<RunningConsole> {
  const logger = options.logger ?? createLogger('console');
  const tokens = new AccessTokens(config.authSecret);
  const sessions = new SessionStore(config.idleMs);
  const client = new ServiceClient(config.services);
  const lineage = new LineageComposer(client);
  const monitor = new PipelineMonitor(client, Math.ceil(3_600_000 / Math.max(config.sampleMs, 1000)));
  let samplerToken = config.samplerToken;

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
    next();
  });
  // API requests only: the front end's static files are not work worth a log line each.
  app.use('/api', requestIds(logger, config.accessLog));
  app.use('/api', express.json({ limit: '256kb' }));
  app.use('/api', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  const cookieOf = (req: Request) => {
    const raw = req.headers.cookie ?? '';
    for (const part of raw.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === SESSION_COOKIE) return decodeURIComponent(v.join('='));
    }
    return undefined;
  };
  const setCookie = (res: Response, value: string, maxAgeSeconds: number) => {
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${config.secureCookie ? '; Secure' : ''}`);
  };
  const problem = (res: Response, status: number, code: string, detail: string, extra: Record<string, unknown> = {}) => {
    const requestId = (res.req as SessionRequest).requestId;
    return res.status(status).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title: code, status, code, detail, ...extra, ...(requestId ? { requestId } : {}) }));
  };
  /** The signed-in user's token and this request's id, for the services' calls made on its behalf. */
  const callerOf = (req: SessionRequest): Caller => ({ token: req.session!.token, requestId: req.requestId });

  /** Every /api route but sign-in needs a live session; state-changing calls need the CSRF header too. */
  const authenticated = (req: SessionRequest, res: Response, next: NextFunction) => {
    const session = sessions.get(cookieOf(req));
    if (!session) return problem(res, 401, 'CONSOLE.NOT_SIGNED_IN', 'sign in first (the session is missing or expired after inactivity)');
    if (!['GET', 'HEAD'].includes(req.method) && !csrfMatches(session, req.headers['x-csrf-token'] as string | undefined)) {
      return problem(res, 403, 'CONSOLE.CSRF', 'missing or wrong X-CSRF-Token header');
    }
    req.session = session;
    req.principal = { subject: session.subject };
    next();
  };
  const adminOnly = (req: SessionRequest, res: Response, next: NextFunction) =>
    req.session?.role === 'admin' ? next() : problem(res, 403, 'CONSOLE.ADMIN_ONLY', 'this action needs an admin (admin:operate)');
  const relay = (res: Response, r: ServiceReply) => {
    if (r.etag) res.setHeader('ETag', r.etag);
    if (r.status === 0) return problem(res, 502, 'CONSOLE.SERVICE_UNAVAILABLE', `${r.service} is not available`, { service: r.service });
    res.status(r.status).json(r.body);
  };
  const purposeOf = (req: Request): string | undefined => {
    const p = (req.query.purpose as string | undefined) ?? (req.body?.purpose as string | undefined);
    return p && PURPOSES.includes(p) ? p : undefined;
  };
  const svc = (name: unknown): ConsoleService | undefined => (CONSOLE_SERVICES as readonly string[]).includes(String(name)) ? (name as ConsoleService) : undefined;

  // Sign-in: the user's own bearer token, verified here; only an opaque session id goes to the browser.
  app.post('/api/session', async (req: Request, res: Response) => {
    const origin = req.headers.origin;
    if (origin && origin !== `${req.protocol}://${req.headers.host}`) return problem(res, 403, 'CONSOLE.CROSS_ORIGIN', 'sign-in from another origin is refused');
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    if (!token) return problem(res, 400, 'CONSOLE.TOKEN_REQUIRED', 'paste a bearer token (in embedded mode: the developerToken of .clinmesh/runtime.json)');
    let principal: Principal;
    try {
      principal = await tokens.verify(token);
    } catch (error) {
      logger.warn({ requestId: (req as SessionRequest).requestId, code: 'CONSOLE.TOKEN_INVALID' }, 'console sign-in refused');
      return problem(res, 401, 'CONSOLE.TOKEN_INVALID', (error as Error).message);
    }
    const exp = decodeJwt(token).exp;
    const session = sessions.create({ subject: principal.subject, scopes: [...principal.scopes], token, tokenExpiresAt: typeof exp === 'number' ? exp * 1000 : null });
    if (session.role === 'admin') samplerToken ??= token;
    logger.info({ requestId: (req as SessionRequest).requestId, subject: session.subject, role: session.role }, 'console sign-in');
    setCookie(res, session.id, Math.floor(config.idleMs / 1000));
    res.status(201).json({ subject: session.subject, role: session.role, scopes: session.scopes, csrf: session.csrf, idleMinutes: config.idleMs / 60000 });
  });
  app.get('/api/session', authenticated, (req: SessionRequest, res) => {
    const s = req.session!;
    setCookie(res, s.id, Math.floor(config.idleMs / 1000));
    res.json({ subject: s.subject, role: s.role, scopes: s.scopes, csrf: s.csrf, idleMinutes: config.idleMs / 60000 });
  });
  app.post('/api/session/logout', authenticated, (req: SessionRequest, res) => {
    sessions.destroy(req.session!.id);
    logger.info({ requestId: req.requestId, subject: req.session!.subject }, 'console sign-out');
    setCookie(res, '', 0);
    res.status(204).end();
  });

  // Lineage
  app.get('/api/lineage', authenticated, async (req: SessionRequest, res) => {
    const kind = String(req.query.kind ?? 'control') as LineageQueryKind;
    const q = String(req.query.q ?? '').trim();
    if (!['control', 'correlation', 'event', 'patient'].includes(kind)) return problem(res, 400, 'CONSOLE.INVALID_KIND', 'kind must be control, correlation, event or patient');
    if (!q) return problem(res, 400, 'CONSOLE.QUERY_REQUIRED', 'give something to search for');
    const purpose = purposeOf(req);
    if (kind === 'patient' && !purpose) return problem(res, 400, 'CONSOLE.PURPOSE_REQUIRED', `a patient search needs a purpose of use (${PURPOSES.join(', ')}); it is audited`);
    const resolved = await lineage.resolve(kind, q, callerOf(req), purpose);
    res.json(resolved);
  });
  app.get('/api/lineage/:correlationId', authenticated, async (req: SessionRequest, res) => {
    const reveal = req.query.reveal === 'true';
    const purpose = purposeOf(req);
    if (reveal && !purpose) return problem(res, 400, 'CONSOLE.PURPOSE_REQUIRED', `revealing patient identifiers needs a purpose of use (${PURPOSES.join(', ')}); it is audited`);
    res.json(await lineage.compose(String(req.params.correlationId), callerOf(req), reveal ? { purpose: purpose! } : undefined));
  });

  // Dead letters (browse: lineage:read on each service; redrive: admin here and admin:operate there)
  app.get('/api/dead-letters', authenticated, async (req: SessionRequest, res) => {
    const qs = new URLSearchParams();
    for (const k of ['status', 'errorCode', 'since']) if (typeof req.query[k] === 'string' && req.query[k]) qs.set(k, req.query[k] as string);
    const only = svc(req.query.service);
    const replies = await Promise.all(CONSOLE_SERVICES.filter((s) => !only || s === only).map((s) => client.call(s, 'GET', `/v1/lineage/dead-letters?${qs}`, callerOf(req))));
    res.json({
      deadLetters: replies.flatMap((r) => (r.ok ? (r.body.deadLetters as Array<Record<string, unknown>>).map((d): Record<string, unknown> => ({ service: r.service, ...d })) : []))
        .sort((a, b) => String(b.failedAt).localeCompare(String(a.failedAt))),
      unavailable: replies.filter((r) => !r.ok).map((r) => ({ service: r.service, problem: problemText(r) })),
      canRedrive: req.session!.role === 'admin',
    });
  });
  app.get('/api/dead-letters/:service/:id', authenticated, async (req: SessionRequest, res) => {
    const s = svc(req.params.service);
    if (!s) return problem(res, 404, 'CONSOLE.NO_SERVICE', 'unknown service');
    const r = await client.call(s, 'GET', `/v1/lineage/dead-letters/${encodeURIComponent(String(req.params.id))}`, callerOf(req));
    if (r.ok) r.body = maskPatientData(r.body);
    relay(res, r);
  });
  app.post('/api/dead-letters/:service/:id/redrive', authenticated, adminOnly, async (req: SessionRequest, res) => {
    const s = svc(req.params.service);
    if (!s) return problem(res, 404, 'CONSOLE.NO_SERVICE', 'unknown service');
    relay(res, await client.call(s, 'POST', `/v1/admin/dead-letters/${encodeURIComponent(String(req.params.id))}/redrive`, callerOf(req), { body: {} }));
  });
  app.post('/api/dead-letters/redrive', authenticated, adminOnly, async (req: SessionRequest, res) => {
    const only = svc(req.body?.service);
    const filter = { errorCode: req.body?.errorCode || undefined, consumerGroup: req.body?.consumerGroup || undefined };
    const replies = await Promise.all(CONSOLE_SERVICES.filter((s) => !only || s === only).map((s) => client.call(s, 'POST', '/v1/admin/dead-letters/redrive', callerOf(req), { body: filter })));
    res.json({ results: replies.map((r) => ({ service: r.service, ok: r.ok, ...(r.ok ? r.body : { problem: problemText(r) }) })) });
  });
  app.get('/api/rejections', authenticated, async (req: SessionRequest, res) => {
    const qs = new URLSearchParams();
    for (const k of ['sender', 'reason', 'since']) if (typeof req.query[k] === 'string' && req.query[k]) qs.set(k, req.query[k] as string);
    relay(res, await client.call('ingest', 'GET', `/v1/rejections?${qs}`, callerOf(req)));
  });

  // Pipeline
  app.get('/api/pipeline', authenticated, async (req: SessionRequest, res) => {
    res.json({ ...(await monitor.snapshot(callerOf(req))), history: monitor.history.all() });
  });

  // Identity review queue
  app.get('/api/review-items', authenticated, async (req: SessionRequest, res) => {
    const r = await client.call('identity-resolution', 'GET', `/v1/review-items?status=${encodeURIComponent(String(req.query.status ?? 'open'))}`, callerOf(req));
    if (r.ok) r.body = maskPatientData(r.body);
    relay(res, r);
  });
  app.get('/api/review-items/:id', authenticated, async (req: SessionRequest, res) => {
    const purpose = purposeOf(req);
    const r = await client.call('identity-resolution', 'GET', `/v1/review-items/${encodeURIComponent(String(req.params.id))}`, callerOf(req), { headers: purpose ? { 'x-purpose-of-use': purpose } : {} });
    if (r.ok && !(req.query.reveal === 'true' && purpose)) r.body = maskPatientData(r.body);
    relay(res, r);
  });
  app.post('/api/review-items/:id/decision', authenticated, async (req: SessionRequest, res) => {
    const ifMatch = req.headers['if-match'];
    if (!ifMatch) return problem(res, 428, 'CONSOLE.IF_MATCH_REQUIRED', 'If-Match with the version read is required');
    // The page sees masked EPIDs: it names the candidate by its position; the EPID is looked up here.
    let candidateEpid: string | undefined;
    if (Number.isInteger(req.body?.candidate)) {
      const item = await client.call('identity-resolution', 'GET', `/v1/review-items/${encodeURIComponent(String(req.params.id))}`, callerOf(req));
      if (!item.ok) return relay(res, item);
      candidateEpid = (item.body.candidates as Array<{ epid: string }> | undefined)?.[req.body.candidate]?.epid;
      if (!candidateEpid) return problem(res, 400, 'CONSOLE.NO_CANDIDATE', 'no such candidate on this review item');
    }
    relay(res, await client.call('identity-resolution', 'POST', `/v1/review-items/${encodeURIComponent(String(req.params.id))}/decision`, callerOf(req), {
      body: { decision: req.body?.decision, ...(candidateEpid ? { candidateEpid } : {}) }, headers: { 'if-match': String(ifMatch) },
    }));
  });

  // Worklist
  app.get('/api/tasks', authenticated, async (req: SessionRequest, res) => {
    const qs = new URLSearchParams({ limit: '200' });
    for (const k of ['status', 'state', 'tier', 'breached', 'correlationId', 'workflow']) if (typeof req.query[k] === 'string' && req.query[k]) qs.set(k, req.query[k] as string);
    const [tasks, workflows] = await Promise.all([client.call('task', 'GET', `/v1/tasks?${qs}`, callerOf(req)), client.call('task', 'GET', '/v1/workflows', callerOf(req))]);
    if (!tasks.ok) return relay(res, tasks);
    const transitions: Record<string, Array<{ name: string; from: string[]; to: string; requires?: string[] }>> = {};
    if (workflows.ok) for (const w of workflows.body.workflows as Array<{ name?: string; id?: string; transitions: Array<{ name: string; from: string[]; to: string; requires?: string[] }> }>) transitions[w.name ?? w.id ?? ''] = w.transitions;
    res.json({ tasks: maskPatientData(tasks.body.tasks), transitions });
  });
  app.get('/api/tasks/:id', authenticated, async (req: SessionRequest, res) => {
    const r = await client.call('task', 'GET', `/v1/tasks/${encodeURIComponent(String(req.params.id))}`, callerOf(req));
    if (r.ok) r.body = maskPatientData(r.body);
    relay(res, r);
  });
  for (const action of ['transitions', 'acknowledge'] as const) {
    app.post(`/api/tasks/:id/${action}`, authenticated, async (req: SessionRequest, res) => {
      const ifMatch = req.headers['if-match'];
      if (!ifMatch) return problem(res, 428, 'CONSOLE.IF_MATCH_REQUIRED', 'If-Match with the task version read is required');
      const r = await client.call('task', 'POST', `/v1/tasks/${encodeURIComponent(String(req.params.id))}/${action}`, callerOf(req), { body: req.body ?? {}, headers: { 'if-match': String(ifMatch) } });
      if (r.ok) r.body = maskPatientData(r.body);
      relay(res, r);
    });
  }

  // Consents and decisions
  app.get('/api/consents', authenticated, async (req: SessionRequest, res) => {
    const purpose = purposeOf(req);
    if (!purpose) return problem(res, 400, 'CONSOLE.PURPOSE_REQUIRED', 'a consent lookup names a patient: give a purpose of use (audited)');
    relay(res, await client.call('policy', 'GET', `/v1/consents?patient=${encodeURIComponent(String(req.query.patient ?? ''))}`, callerOf(req), { headers: { 'x-purpose-of-use': purpose } }));
  });
  app.get('/api/decisions', authenticated, async (req: SessionRequest, res) => {
    const r = await client.call('policy', 'GET', `/v1/decisions?correlationId=${encodeURIComponent(String(req.query.correlationId ?? ''))}`, callerOf(req));
    if (r.ok) r.body = maskPatientData(r.body);
    relay(res, r);
  });

  // Audit
  app.get('/api/audit', authenticated, async (req: SessionRequest, res) => {
    const s = svc(req.query.service) ?? 'ingest';
    const r = await client.call(s, 'GET', `/v1/audit?limit=${encodeURIComponent(String(req.query.limit ?? '100'))}`, callerOf(req));
    if (r.ok) r.body = maskPatientData(r.body);
    relay(res, r);
  });
  app.post('/api/audit/verify', authenticated, async (req: SessionRequest, res) => {
    const only = svc(req.body?.service);
    const replies = await Promise.all(CONSOLE_SERVICES.filter((s) => !only || s === only).map((s) => client.call(s, 'POST', '/v1/audit/verify', callerOf(req), { body: {} })));
    res.json({ results: replies.map((r) => (r.ok ? { service: r.service, ...r.body } : { service: r.service, problem: problemText(r) })) });
  });

  app.use('/api', (_req, res) => problem(res, 404, 'CONSOLE.NOT_FOUND', 'no such console API'));

  // The built front end (single-page app).
  if (existsSync(config.staticDir)) {
    app.use(express.static(config.staticDir, { index: 'index.html', maxAge: 0 }));
    app.use((req, res, next) => (req.method === 'GET' ? res.sendFile(join(config.staticDir, 'index.html')) : next()));
  } else {
    app.use((_req, res) => res.status(503).type('text/plain').send(`console front end not built (${config.staticDir}): run npm run build`));
  }

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const timer = setInterval(() => {
    if (samplerToken) void monitor.sample(samplerToken).catch(() => undefined);
  }, config.sampleMs);
  timer.unref();
  return {
    url: `http://${config.host}:${port}`,
    server,
    sessions,
    stop: async () => {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
