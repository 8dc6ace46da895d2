import type { UnitOfWork } from '@clinmesh/event-runtime';
import type { Tier } from '@clinmesh/topology';
import type { Subscription } from '../domain/subscription';
import type { Breaker } from '../domain/circuit-breaker';

/** A delivery to write (fan-out, test events, FHIR handshakes and heartbeats). */
export interface NewDelivery {
  deliveryId: string;
  subscriptionId: string;
  sourceEventId: string;
  correlationId: string;
  eventType: string;
  tier: Tier;
  epid: string | null;
  decisionId: string | null;
  payload: Record<string, unknown>;
  fhirEventNumber: number | null;
  focus: string | null;
  receivedAt: number | null;
}

/** A claimed delivery with what the sender needs. */
export interface ClaimedDelivery {
  deliveryId: string;
  subscriptionId: string;
  kind: 'webhook' | 'fhir';
  url: string;
  audience: string;
  purposeOfUse: string;
  sourceEventId: string;
  correlationId: string;
  eventType: string;
  tier: Tier;
  epid: string | null;
  decisionId: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  attemptBase: number;
  probe: boolean;
  receivedAt: number | null;
  secretSealed: string;
  previousSecretSealed: string | null;
  fhirHeaders: string[];
  /** The decision behind it was revoked: cancel, do not send. */
  revoked: { reason: string | null } | null;
}

export interface SubscriptionHealth {
  breaker: Breaker;
  status: string;
  failingSince: number | null;
}

export interface DeliveryStore {
  enqueue(uow: UnitOfWork, deliveries: NewDelivery[]): Promise<number>;
  /** Next consecutive FHIR event numbers for a subscription (row-locked counter). */
  takeFhirEventNumber(uow: UnitOfWork, subscriptionId: string): Promise<number>;
  /** Which of these decisions were revoked (one query for a chunk). */
  revokedAmong(uow: UnitOfWork, decisionIds: string[]): Promise<Set<string>>;
  recordRevokedDecision(uow: UnitOfWork, r: { decisionId: string; epid: string | null; audience: string | null; reason: string | null; at: number; sourceEventId: string }): Promise<void>;
  /** Cancels every pending delivery made under the decision; returns them. */
  cancelForDecision(uow: UnitOfWork, decisionId: string, reason: string): Promise<ClaimedDelivery[]>;
  lockHealth(uow: UnitOfWork, subscriptionId: string): Promise<SubscriptionHealth>;
  /** After an answer: breaker closed, streak cleared — without a row lock when it already is (the hot path). */
  markHealthy(uow: UnitOfWork, subscriptionId: string): Promise<void>;
  /**
   * After a committed success, outside any transaction: the subscription's last success (and last
   * notification, the FHIR heartbeat's clock) to within a second. Best effort, never throws.
   */
  noteSuccess(subscriptionId: string): Promise<void>;
  saveHealth(uow: UnitOfWork, subscriptionId: string, h: { breaker: Breaker; failingSince: number | null; success: boolean }): Promise<void>;
  disableSubscription(uow: UnitOfWork, subscriptionId: string, reason: string): Promise<void>;
  /** The attempt rows of a group of attempts, in one statement. */
  recordAttempts(uow: UnitOfWork, attempts: AttemptRow[]): Promise<void>;
  finish(uow: UnitOfWork, deliveryId: string, status: 'delivered' | 'dead' | 'cancelled', reason: string | null, statusCode: number | null, error: string | null): Promise<void>;
  /** Deliveries the endpoint accepted (2xx), as `finish(…, 'delivered', …)` for each, in one statement. */
  finishDelivered(uow: UnitOfWork, delivered: Array<{ deliveryId: string; statusCode: number | null }>): Promise<void>;
  reschedule(uow: UnitOfWork, deliveryId: string, delayMs: number, statusCode: number | null, error: string | null): Promise<void>;
  markFhirActive(uow: UnitOfWork, subscriptionId: string, status: 'active' | 'error'): Promise<void>;
}

export interface SubscriptionSnapshot {
  /** Subscriptions that take new deliveries (active or paused; a paused one keeps its backlog). */
  forFanOut(uow: UnitOfWork): Promise<Subscription[]>;
}

/** `runtime.inTransaction`: effects and emitted events commit together. */
export interface TransactionRunner {
  inTransaction<T>(origin: import('@clinmesh/event-runtime').EventOrigin, work: (ctx: import('@clinmesh/event-runtime').EventContext) => Promise<T>): Promise<T>;
  /** One transaction for several origins (a group commit of attempts): one context each. */
  inTransactionEach<T>(origins: readonly import('@clinmesh/event-runtime').EventOrigin[], work: (contexts: import('@clinmesh/event-runtime').EventContext[]) => Promise<T>): Promise<T>;
}

/** One webhook attempt as recorded (`nf_attempt`). */
export interface AttemptRow {
  deliveryId: string;
  attempt: number;
  startedAt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  outcome: string;
  address: string | null;
}
