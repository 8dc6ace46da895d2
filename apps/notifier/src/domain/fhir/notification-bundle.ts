/**
 * Notification Bundles of the Subscriptions R5 backport IG for R4: a
 * `history` Bundle whose first entry is the SubscriptionStatus, profiled on
 * R4 `Parameters`; `events-since-subscription-start` and `event-number` are
 * strings (R4 has no integer64).
 */
export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport';
export const NOTIFICATION_PROFILE = `${BACKPORT}/StructureDefinition/backport-subscription-notification-r4`;
export const STATUS_PROFILE = `${BACKPORT}/StructureDefinition/backport-subscription-status-r4`;
export const SUBSCRIPTION_PROFILE = `${BACKPORT}/StructureDefinition/backport-subscription`;

export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

/** Backport payload content: ids only (default), nothing, or the focus resource itself (https endpoints only). */
export type PayloadContent = 'id-only' | 'empty' | 'full-resource';

export interface NotificationEvent {
  eventNumber: number;
  timestamp: string;
  /** `Observation/abc` */
  focus: string | null;
  /** full-resource: the focus rendered from the audience's projected view (null when the view does not hold it). */
  resource?: Record<string, unknown> | null;
}

export interface StatusInput {
  bundleId: string;
  subscriptionId: string;
  topic: string;
  status: string;
  type: NotificationType;
  eventsSinceStart: number;
  events: NotificationEvent[];
  /** Base of resource references (normalization's FHIR API) and of the Subscription itself. */
  resourceBase: string;
  subscriptionBase: string;
  payload: PayloadContent;
  now: string;
  error?: string;
}

export function subscriptionStatus(i: StatusInput): Record<string, unknown> {
  const parameter: Array<Record<string, unknown>> = [
    { name: 'subscription', valueReference: { reference: `${i.subscriptionBase}/Subscription/${i.subscriptionId}` } },
    { name: 'topic', valueCanonical: i.topic },
    { name: 'status', valueCode: i.status },
    { name: 'type', valueCode: i.type },
    { name: 'events-since-subscription-start', valueString: String(i.eventsSinceStart) },
  ];
  for (const e of i.events) {
    const part: Array<Record<string, unknown>> = [
      { name: 'event-number', valueString: String(e.eventNumber) },
      { name: 'timestamp', valueInstant: e.timestamp },
    ];
    if (e.focus && i.payload !== 'empty') part.push({ name: 'focus', valueReference: { reference: `${i.resourceBase}/${e.focus}` } });
    parameter.push({ name: 'notification-event', part });
  }
  if (i.error) parameter.push({ name: 'error', valueCodeableConcept: { text: i.error } });
  return { resourceType: 'Parameters', id: `${i.bundleId}-status`, meta: { profile: [STATUS_PROFILE] }, parameter };
}

export function notificationBundle(i: StatusInput): Record<string, unknown> {
  const entry: Array<Record<string, unknown>> = [{
    fullUrl: `urn:uuid:${i.bundleId}-status`,
    resource: subscriptionStatus(i),
    request: { method: 'GET', url: `Subscription/${i.subscriptionId}/$status` },
    response: { status: '200' },
  }];
  if (i.payload !== 'empty') {
    for (const e of i.events) {
      if (!e.focus) continue;
      // full-resource carries the focus as the audience may see it; without one in the view the entry stays id-only.
      const resource = i.payload === 'full-resource' && e.resource ? { resource: e.resource } : {};
      entry.push({ fullUrl: `${i.resourceBase}/${e.focus}`, ...resource, request: { method: 'PUT', url: e.focus }, response: { status: '200' } });
    }
  }
  return { resourceType: 'Bundle', id: i.bundleId, meta: { profile: [NOTIFICATION_PROFILE] }, type: 'history', timestamp: i.now, entry };
}

export interface FhirSubscriptionInput {
  topic: string;
  endpoint: string;
  payload: PayloadContent;
  heartbeatPeriod: number | null;
  headers: string[];
  end: string | null;
  reason: string;
}

const CONTENT_EXT = `${BACKPORT}/StructureDefinition/backport-payload-content`;
const HEARTBEAT_EXT = `${BACKPORT}/StructureDefinition/backport-heartbeat-period`;

/**
 * Reads an R4 Subscription with the backport profile. Returns the issues
 * (as OperationOutcome issue entries) instead when it cannot be accepted.
 */
export function readFhirSubscription(body: unknown, topics: readonly string[]): { ok: true; value: FhirSubscriptionInput } | { ok: false; issues: Array<Record<string, unknown>> } {
  const r = (body ?? {}) as Record<string, any>;
  const issues: Array<Record<string, unknown>> = [];
  const issue = (expression: string, text: string, code = 'invalid') => issues.push({ severity: 'error', code, details: { text }, expression: [expression] });
  if (r.resourceType !== 'Subscription') issue('Subscription', 'resourceType must be Subscription', 'structure');
  const topic = typeof r.criteria === 'string' ? r.criteria : '';
  if (!topic) issue('Subscription.criteria', 'criteria must hold the SubscriptionTopic canonical URL (backport profile)', 'required');
  else if (!topics.includes(topic)) issue('Subscription.criteria', `unknown topic ${topic}; see Subscription/$topic-list`, 'not-supported');
  const channel = (r.channel ?? {}) as Record<string, any>;
  if (channel.type !== 'rest-hook') issue('Subscription.channel.type', 'only the rest-hook channel is supported', 'not-supported');
  const endpoint = typeof channel.endpoint === 'string' ? channel.endpoint : '';
  if (!endpoint) issue('Subscription.channel.endpoint', 'channel.endpoint is required', 'required');
  const payloadExt = (channel._payload?.extension ?? []) as Array<Record<string, any>>;
  const content = payloadExt.find((e) => e.url === CONTENT_EXT)?.valueCode ?? 'id-only';
  if (channel.payload && channel.payload !== 'application/fhir+json') issue('Subscription.channel.payload', 'payload MIME type must be application/fhir+json', 'not-supported');
  // full-resource puts the resource (the audience's projected view of it) in the notification body: only over https.
  if (content === 'full-resource' && !endpoint.startsWith('https:')) issue('Subscription.channel.payload', 'full-resource needs an https endpoint: the resource travels in the notification (use id-only over http)', 'not-supported');
  else if (!['id-only', 'empty', 'full-resource'].includes(content)) issue('Subscription.channel.payload', `payload content must be id-only, empty or full-resource (got ${content})`);
  const hbExt = ((channel.extension ?? []) as Array<Record<string, any>>).find((e) => e.url === HEARTBEAT_EXT);
  const heartbeatPeriod = hbExt ? Number(hbExt.valueUnsignedInt ?? hbExt.valueInteger) : null;
  if (heartbeatPeriod !== null && !(Number.isInteger(heartbeatPeriod) && heartbeatPeriod > 0)) issue('Subscription.channel.extension', 'heartbeat period must be a positive integer (seconds)');
  const headers = Array.isArray(channel.header) ? channel.header.filter((h: unknown) => typeof h === 'string') : [];
  if (issues.length) return { ok: false, issues };
  return {
    ok: true,
    value: { topic, endpoint, payload: content as PayloadContent, heartbeatPeriod, headers, end: typeof r.end === 'string' ? r.end : null, reason: typeof r.reason === 'string' ? r.reason : '' },
  };
}

export function fhirSubscriptionResource(s: { id: string; topic: string; endpoint: string; payload: string; heartbeatPeriod: number | null; status: string; reason: string; version: number }): Record<string, unknown> {
  const channelExt = s.heartbeatPeriod ? [{ url: HEARTBEAT_EXT, valueUnsignedInt: s.heartbeatPeriod }] : [];
  return {
    resourceType: 'Subscription',
    id: s.id,
    meta: { profile: [SUBSCRIPTION_PROFILE], versionId: String(s.version) },
    status: s.status,
    reason: s.reason || 'clinmesh subscription',
    criteria: s.topic,
    channel: {
      ...(channelExt.length ? { extension: channelExt } : {}),
      type: 'rest-hook',
      endpoint: s.endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: CONTENT_EXT, valueCode: s.payload }] },
    },
  };
}
