import { ServiceConfig, SettingsReader } from '@clinmesh/service-kit';
import { AddressAllowlist, parseAllowlist } from '../domain/address-guard';
import { DEFAULT_RETRY_SCHEDULE_MS, parseRetrySchedule } from '../domain/retry-schedule';

/** Loopback, allowlisted by default on the embedded development platform only. */
export const EMBEDDED_DEFAULT_ALLOWLIST = '127.0.0.0/8,::1';

/** Notifier's own settings (`NOTIFIER_*`), read and validated once at start. */
export interface NotifierConfig {
  /** Key material for sealing subscriber secrets (AES-256-GCM). */
  secretKey: string;
  delivery: {
    concurrency: number;
    /** In-flight attempts per subscription, so one slow endpoint never holds the whole worker. */
    maxInFlightPerSubscription: number;
    /** A claimed attempt not finished after this long is claimed again (crashed worker). */
    leaseSeconds: number;
    /** 2xx within this long counts; anything later is a failure. */
    timeoutMs: number;
    pollMs: number;
    /** Delays before attempt 2, 3, …: the first attempt is immediate. Exhausted → dead. */
    retryScheduleMs: number[];
    /** Jitter as a fraction of each delay (0.2 = ±20 %). */
    jitter: number;
    /** Cap on a subscriber's Retry-After. */
    maxRetryAfterMs: number;
  };
  breaker: {
    /** Consecutive failures that open a subscription's breaker. */
    failureThreshold: number;
    /** How long an open breaker waits before admitting one probe. */
    openMs: number;
  };
  /** An endpoint failing without a success for this long is disabled. */
  disableAfterMs: number;
  /** Old secret keeps signing for this long after a rotation. */
  rotationGraceMs: number;
  ssrf: {
    /** Addresses (CIDR or literal, optional `:port`) allowed although private/loopback/link-local. */
    allowlist: AddressAllowlist;
    allowlistSource: string;
    /** Refuse plain http endpoints (production). */
    httpsOnly: boolean;
  };
  fhir: {
    /** Base URL clients use to fetch resources named in id-only notifications (normalization's FHIR API). */
    resourceBaseUrl: string;
    /** Where FHIR clients reach this service (Subscription references in notifications); default its own HTTP address. */
    subscriptionBaseUrl: string;
    /** How far back `$events` re-fetches. */
    eventsWindowMs: number;
    heartbeatCheckMs: number;
  };
}

/**
 * Reads every `NOTIFIER_*` setting once; all problems are reported together
 * and the service refuses to start. On the embedded platform (mock Kafka
 * cluster) the SSRF allowlist defaults to loopback so local receivers work;
 * anywhere else it defaults to empty.
 */
export function loadNotifierConfig(config: ServiceConfig): NotifierConfig {
  const s = new SettingsReader('NOTIFIER', config.env);
  const env = (name: string) => s.raw(name);
  let retryScheduleMs = DEFAULT_RETRY_SCHEDULE_MS;
  const schedule = env('RETRY_SCHEDULE');
  if (schedule !== undefined) {
    try {
      retryScheduleMs = parseRetrySchedule(schedule);
    } catch (e) {
      s.problem(`NOTIFIER_RETRY_SCHEDULE: ${(e as Error).message}`);
    }
  }
  const embedded = config.topicProvisioning.mode === 'mock';
  const allowlistRaw = env('WEBHOOK_ALLOWLIST') ?? (embedded ? EMBEDDED_DEFAULT_ALLOWLIST : 'none');
  let allowlist = parseAllowlist('none');
  try {
    allowlist = parseAllowlist(allowlistRaw);
  } catch (e) {
    s.problem(`NOTIFIER_WEBHOOK_ALLOWLIST: ${(e as Error).message}`);
  }
  const httpsOnly = s.flag('HTTPS_ONLY');
  const result: NotifierConfig = {
    secretKey: s.string('SECRET_KEY', config.authSecret),
    delivery: {
      concurrency: s.int('DELIVERY_CONCURRENCY', 32, { min: 1 }),
      maxInFlightPerSubscription: s.int('MAX_IN_FLIGHT_PER_SUBSCRIPTION', 8, { min: 1 }),
      leaseSeconds: s.int('DELIVERY_LEASE_SECONDS', 60, { min: 1 }),
      timeoutMs: s.int('DELIVERY_TIMEOUT_MS', 15_000, { min: 1 }),
      pollMs: s.int('DELIVERY_POLL_MS', 200, { min: 1 }),
      retryScheduleMs,
      jitter: s.number('RETRY_JITTER', 0.2, { min: 0 }),
      maxRetryAfterMs: s.int('MAX_RETRY_AFTER_MS', 24 * 3600_000, { min: 0 }),
    },
    breaker: {
      failureThreshold: s.int('BREAKER_FAILURE_THRESHOLD', 5, { min: 1 }),
      openMs: s.int('BREAKER_OPEN_MS', 30_000, { min: 1 }),
    },
    disableAfterMs: s.int('DISABLE_AFTER_MS', 5 * 24 * 3600_000, { min: 1 }),
    rotationGraceMs: s.int('ROTATION_GRACE_MS', 24 * 3600_000, { min: 0 }),
    ssrf: { allowlist, allowlistSource: allowlistRaw, httpsOnly },
    fhir: {
      resourceBaseUrl: s.string('FHIR_RESOURCE_BASE_URL', 'urn:clinmesh:fhir'),
      subscriptionBaseUrl: s.string('PUBLIC_BASE_URL', `http://${config.http.host}:${config.http.port}/fhir`),
      eventsWindowMs: s.int('FHIR_EVENTS_WINDOW_MS', 7 * 24 * 3600_000, { min: 1 }),
      heartbeatCheckMs: s.int('HEARTBEAT_CHECK_MS', 1000, { min: 10 }),
    },
  };
  if (result.delivery.jitter >= 1) s.problem('NOTIFIER_RETRY_JITTER must be below 1');
  s.assertValid('notifier');
  return result;
}
