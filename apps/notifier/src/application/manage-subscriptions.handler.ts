import { ClinmeshError } from '@clinmesh/errors';
import { deriveEventId, newEventId } from '@clinmesh/event-runtime';
import { OPERATIONS_AUDIENCE, Subscription, SubscriptionFilter, SubscriptionStatus, validateSubscriptionRequest } from '../domain/subscription';
import { generateSecret, secretProblems } from '../domain/webhook-signature';
import { FhirSubscriptionInput, notificationBundle } from '../domain/fhir/notification-bundle';
import type { NewDelivery } from './notifier.ports';

export interface Caller {
  subject: string;
  scopes: ReadonlySet<string>;
  audience?: string;
  purposeOfUse?: string;
}

/** What the subscription use cases need from storage and the SSRF guard. */
export interface SubscriptionPorts {
  store: {
    create(s: {
      id: string; kind: 'webhook' | 'fhir'; name: string; url: string; audience: string; purposeOfUse: string; events: string[]; filter: SubscriptionFilter;
      ordering: 'none' | 'patient'; secret: string; fhir: Subscription['fhir']; createdBy: string;
    }, first?: NewDelivery): Promise<Subscription>;
    get(id: string, kind?: 'webhook' | 'fhir'): Promise<(Subscription & { health: Record<string, unknown> }) | null>;
    update(id: string, expectedVersion: number, change: Record<string, unknown>): Promise<Subscription | null>;
    enqueueOne(d: NewDelivery): Promise<void>;
  };
  /** Resolves and judges the endpoint now (registration-time SSRF check). */
  checkEndpoint(url: string): Promise<{ ok: true } | { ok: false; code: string; reason: string }>;
  rotationGraceMs: number;
  resourceBaseUrl: string;
  subscriptionBaseUrl: string;
}

/** Create, update (If-Match), pause/resume, rotate secret, send a test event. */
export class ManageSubscriptionsHandler {
  constructor(private readonly ports: SubscriptionPorts) {}

  async create(body: unknown, caller: Caller): Promise<{ subscription: Subscription; secret: string; secretGenerated: boolean }> {
    const req = validateSubscriptionRequest(body, caller);
    if (req.audience === OPERATIONS_AUDIENCE && !caller.scopes.has('admin:operate')) {
      throw new ClinmeshError('SUBSCRIPTION.AUDIENCE_REQUIRED', 'a subscription must name an audience (or the token carry one); the operations audience needs admin:operate', { status: 422 });
    }
    await this.assertEndpoint(req.url);
    const secret = req.secret ?? generateSecret();
    const subscription = await this.ports.store.create({
      id: `sub_${newEventId()}`, kind: 'webhook', name: req.name, url: req.url, audience: req.audience, purposeOfUse: req.purposeOfUse, events: req.events,
      filter: req.filter, ordering: req.ordering, secret, fhir: null, createdBy: caller.subject,
    });
    return { subscription, secret, secretGenerated: req.secret === undefined };
  }

  async createFhir(input: FhirSubscriptionInput, caller: Caller): Promise<Subscription> {
    if (!caller.audience || !caller.purposeOfUse) {
      throw new ClinmeshError('FHIR.SUBSCRIBER_UNBOUND', 'the client token must carry an audience and a purpose of use to subscribe', { status: 403 });
    }
    await this.assertEndpoint(input.endpoint);
    const id = `fsub_${newEventId()}`;
    const handshake: NewDelivery = {
      deliveryId: deriveEventId(id, 'handshake'), subscriptionId: id, sourceEventId: id, correlationId: id, eventType: 'fhir.handshake', tier: 'urgent',
      epid: null, decisionId: null, fhirEventNumber: null, focus: null, receivedAt: null,
      payload: notificationBundle({
        bundleId: deriveEventId(id, 'handshake'), subscriptionId: id, topic: input.topic, status: 'requested', type: 'handshake', eventsSinceStart: 0, events: [],
        resourceBase: this.ports.resourceBaseUrl, subscriptionBase: this.ports.subscriptionBaseUrl, payload: input.payload, now: new Date().toISOString(),
      }),
    };
    return this.ports.store.create({
      id, kind: 'fhir', name: input.reason || input.topic, url: input.endpoint, audience: caller.audience, purposeOfUse: caller.purposeOfUse,
      events: ['routed', 'task.*'], filter: {}, ordering: 'none',
      // FHIR rest-hook subscribers get the same Standard Webhooks signature headers (secret shown in no response: FHIR clients authenticate by channel.header).
      secret: generateSecret(), fhir: { topic: input.topic, payload: input.payload, heartbeatPeriod: input.heartbeatPeriod, status: 'requested', eventsSinceStart: 0, headers: input.headers },
      createdBy: caller.subject,
    }, handshake);
  }

  async get(id: string, kind: 'webhook' | 'fhir' = 'webhook'): Promise<Subscription & { health: Record<string, unknown> }> {
    const s = await this.ports.store.get(id, kind);
    if (!s) throw new ClinmeshError('SUBSCRIPTION.NOT_FOUND', `subscription ${id} not found`, { status: 404 });
    return s;
  }

  /** PATCH with If-Match: url, name, filter, events, ordering, status (active / paused). */
  async update(id: string, ifMatch: string | undefined, body: Record<string, unknown>): Promise<Subscription> {
    const version = this.requireVersion(ifMatch);
    const current = await this.get(id);
    const change: Record<string, unknown> = {};
    const problems: string[] = [];
    if (body.url !== undefined) {
      if (typeof body.url !== 'string') problems.push('url must be a string');
      else {
        await this.assertEndpoint(body.url);
        change.url = body.url;
      }
    }
    if (body.name !== undefined) change.name = String(body.name);
    if (body.status !== undefined) {
      if (body.status !== 'active' && body.status !== 'paused') problems.push('status must be active or paused');
      else this.statusChange(current.status, body.status, change);
    }
    if (body.filter !== undefined || body.events !== undefined || body.ordering !== undefined) {
      const merged = validateSubscriptionRequest({ url: current.url, audience: current.audience, purposeOfUse: current.purposeOfUse, filter: body.filter ?? current.filter, events: body.events ?? current.events, ordering: body.ordering ?? current.ordering }, {});
      Object.assign(change, { filter: merged.filter, events: merged.events, ordering: merged.ordering });
    }
    if (problems.length) throw new ClinmeshError('SUBSCRIPTION.INVALID', problems.join('; '), { status: 422, details: { problems } });
    return this.apply(id, version, change);
  }

  async setStatus(id: string, ifMatch: string | undefined, status: 'active' | 'paused'): Promise<Subscription> {
    const version = this.requireVersion(ifMatch);
    const current = await this.get(id);
    const change: Record<string, unknown> = {};
    this.statusChange(current.status, status, change);
    return this.apply(id, version, change);
  }

  /** New secret (given or generated, shown once); the old one keeps signing during the grace period. */
  async rotateSecret(id: string, ifMatch: string | undefined, body: Record<string, unknown>): Promise<{ subscription: Subscription; secret: string; previousValidUntil: string }> {
    const version = this.requireVersion(ifMatch);
    await this.get(id);
    let secret = generateSecret();
    if (body.secret !== undefined) {
      const problems = typeof body.secret === 'string' ? secretProblems(body.secret) : ['secret must be a string'];
      if (problems.length) throw new ClinmeshError('SUBSCRIPTION.INVALID', problems.join('; '), { status: 422, details: { problems } });
      secret = body.secret as string;
    }
    const graceMs = body.graceSeconds !== undefined && Number.isFinite(Number(body.graceSeconds)) ? Number(body.graceSeconds) * 1000 : this.ports.rotationGraceMs;
    const subscription = await this.apply(id, version, { newSecret: secret, graceMs });
    return { subscription, secret, previousValidUntil: new Date(Date.now() + graceMs).toISOString() };
  }

  /** A `webhook.test` delivery through the normal path (signed, retried, recorded). */
  async sendTest(id: string): Promise<string> {
    const s = await this.get(id);
    const deliveryId = `test_${newEventId()}`;
    await this.ports.store.enqueueOne({
      deliveryId, subscriptionId: s.id, sourceEventId: deliveryId, correlationId: deliveryId, eventType: 'webhook.test', tier: 'urgent', epid: null, decisionId: null,
      fhirEventNumber: null, focus: null, receivedAt: null,
      payload: { type: 'webhook.test', timestamp: new Date().toISOString(), data: { subscriptionId: s.id, audience: s.audience, message: 'clinmesh test event' } },
    });
    return deliveryId;
  }

  private statusChange(from: SubscriptionStatus, to: 'active' | 'paused', change: Record<string, unknown>): void {
    if (from === to) return;
    change.status = to;
    // Resuming a disabled or paused endpoint starts its health afresh.
    if (to === 'active') change.resetHealth = true;
  }

  private async apply(id: string, version: number, change: Record<string, unknown>): Promise<Subscription> {
    const updated = await this.ports.store.update(id, version, change);
    if (updated) return updated;
    const current = await this.get(id);
    throw new ClinmeshError('SUBSCRIPTION.VERSION_MISMATCH', `subscription ${id} is at version ${current.version}, not ${version}`, { status: 412, details: { currentVersion: current.version } });
  }

  private requireVersion(ifMatch: string | undefined): number {
    const v = Number(String(ifMatch ?? '').replace(/^W\//, '').replace(/"/g, ''));
    if (!ifMatch) throw new ClinmeshError('HTTP.PRECONDITION_REQUIRED', 'If-Match with the subscription ETag is required', { status: 428 });
    if (!Number.isInteger(v)) throw new ClinmeshError('SUBSCRIPTION.VERSION_MISMATCH', 'If-Match must be the ETag of the subscription', { status: 412 });
    return v;
  }

  private async assertEndpoint(url: string): Promise<void> {
    const r = await this.ports.checkEndpoint(url);
    if (!r.ok) throw new ClinmeshError(`SUBSCRIPTION.ENDPOINT_REFUSED`, `endpoint refused: ${r.reason}`, { status: 422, details: { reason: r.code } });
  }
}
