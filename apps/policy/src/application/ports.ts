import type { ConsentDirective, ConsentProvision } from '../domain/consent';
import type { ActiveGrant } from '../domain/decide';
import type { Tier } from '@clinmesh/topology';
import type { RoutedEvent } from '@clinmesh/schemas';

/** What the application needs from storage; adapters/persistence implements it over a unit of work or the data source. */
export interface DecisionRecord {
  decisionId: string;
  canonicalEventId: string;
  correlationId: string;
  epid: string;
  audience: string;
  effect: string;
  obligations: string[];
  policyVersion: string;
  ruleIds: string[];
  routingRuleIds: string[];
  consentId: string | null;
  consentProvision: string | null;
  consentDecision: string;
  labels: string[];
  withheldLabels: string[];
  purpose: string;
  grantId: string | null;
  projection: string;
  deidentified: boolean;
  tier: string;
  originalTier: string;
  critical: boolean;
  workflows: string[];
  routedEventId: string | null;
  resourceType: string;
  reason: string;
  explanation: string;
  revokedAt?: string | null;
  revokedReason?: string | null;
  decidedAt?: string;
}

export interface DecisionStore {
  insert(rows: DecisionRecord[]): Promise<void>;
  byCorrelation(correlationId: string): Promise<DecisionRecord[]>;
  releasedSince(epid: string, since: Date): Promise<DecisionRecord[]>;
  revoke(decisionIds: string[], reason: string): Promise<void>;
  disclosures(epids: string[], limit: number): Promise<Array<DecisionRecord & { deliveries: Array<{ subscriptionId: string; at: string }> }>>;
  mergePatient(from: string, to: string): Promise<void>;
}

export interface IdentityIndex {
  upsert(recordKey: string, epid: string): Promise<void>;
  /** Many links in one statement, as `upsert` one after the other in this order (a key given twice ends on its last EPID). */
  upsertMany(links: Array<{ recordKey: string; epid: string }>): Promise<void>;
  epidsOf(recordKeys: string[]): Promise<string[]>;
  mergePatient(from: string, to: string): Promise<void>;
}

export interface StoredConsent {
  id: string;
  version: number;
  status: string;
  patientKeys: string[];
  patientSystem: string;
  epid: string | null;
  resource: Record<string, unknown>;
  provision: ConsentProvision;
  recordedBy: string;
  createdAt: string;
  updatedAt: string;
  appliedAt: string | null;
}

export interface ConsentStore {
  insert(c: Omit<StoredConsent, 'createdAt' | 'updatedAt' | 'appliedAt'>): Promise<StoredConsent>;
  update(id: string, expectedVersion: number, c: { status: string; resource: Record<string, unknown>; provision: ConsentProvision }): Promise<StoredConsent | undefined>;
  get(id: string, forUpdate?: boolean): Promise<StoredConsent | undefined>;
  byPatientKeys(keys: string[]): Promise<StoredConsent[]>;
  activeDirectives(epid: string): Promise<ConsentDirective[]>;
  /** Active consents of many patients at once (a consumer chunk's). */
  activeDirectivesFor(epids: string[]): Promise<ConsentDirective[]>;
  resolvePending(recordKey: string, epid: string): Promise<StoredConsent[]>;
  /**
   * `resolvePending` for many links in one statement, as if called for each in this order: a pending
   * consent naming several of the keys is applied by the first link that names it. Returns, per link,
   * the consents it applied.
   */
  resolvePendingMany(links: Array<{ recordKey: string; epid: string }>): Promise<StoredConsent[][]>;
  mergePatient(from: string, to: string): Promise<string[]>;
}

export interface StoredGrant {
  id: string;
  epid: string;
  audience: string;
  actor: string;
  reason: string;
  grantedAt: string;
  expiresAt: string;
  status: string;
}

export interface GrantStore {
  insert(g: { id: string; epid: string; audience: string; actor: string; reason: string; expiresAt: Date }): Promise<StoredGrant>;
  active(epid: string, now: Date): Promise<ActiveGrant[]>;
  activeFor(epids: string[], now: Date): Promise<Array<ActiveGrant & { epid: string }>>;
  claimDue(now: Date, limit: number): Promise<StoredGrant[]>;
  markExpired(id: string): Promise<void>;
  mergePatient(from: string, to: string): Promise<void>;
}

export interface PolicyVersionStore {
  active(): Promise<{ version: string; document: unknown; source: string; activatedAt: string } | undefined>;
  known(version: string): Promise<boolean>;
  activate(version: string, document: unknown, source: string): Promise<void>;
  saveCandidate(version: string, document: unknown, source: string): Promise<void>;
  candidate(): Promise<{ version: string; document: unknown } | undefined>;
  discardCandidate(): Promise<void>;
}

export interface ShadowDiff {
  candidateVersion: string;
  activeVersion: string;
  canonicalEventId: string;
  correlationId: string;
  audience: string;
  active: Record<string, unknown>;
  candidate: Record<string, unknown>;
  at?: string;
}

export interface ShadowDiffStore {
  insert(rows: ShadowDiff[]): Promise<void>;
  list(candidateVersion: string, limit: number): Promise<ShadowDiff[]>;
  count(candidateVersion: string): Promise<number>;
}

/** A routed view a delay rule holds until its release time (the view exactly as it will be published). */
export interface HeldView {
  routedEventId: string;
  decisionId: string;
  audience: string;
  topic: string;
  key: string | null;
  tier: Tier;
  value: RoutedEvent;
  releaseAt: Date;
}

export interface HeldViewStore {
  hold(views: HeldView[]): Promise<void>;
  /** Views whose release time has come (read without locking; a batch of them is then claimed in one transaction). */
  due(now: Date, limit: number): Promise<HeldView[]>;
  /** Locks those of these views still held for release; skips what another instance has locked or already released. */
  claim(routedEventIds: string[]): Promise<Set<string>>;
  markReleased(routedEventIds: string[]): Promise<void>;
  /** Views still held (a gauge for operators: how much is waiting). */
  pendingCount(): Promise<number>;
}

/** A delivery the notifier reported (DELIVERED), for the accounting of disclosures. */
export interface DeliveryReceipt {
  eventId: string;
  sourceEventId: string;
  subscriptionId: string;
  status: string;
  at: Date;
}

export interface DeliveryStore {
  /** One statement for any number of receipts; one already kept stays. */
  insert(rows: DeliveryReceipt[]): Promise<void>;
}

/** What a decision reads of a patient: the active consents and break-glass grants. */
export interface PatientState {
  consents: ConsentDirective[];
  grants: ActiveGrant[];
}

/**
 * Policy's consumers, set-based per transaction (a consumer chunk): the chunk's patients' state is
 * read once (`preload`, the canonical consumer's prepare step: one statement per table), the
 * handlers read it from there and buffer what they write (`record`, `recordDelivery`), and `flush`
 * (the consumers' complete step) writes the decisions, held views, shadow diffs and delivery
 * receipts as one multi-row statement each, whatever the chunk's size. The result equals handling
 * the events one by one in order.
 */
export interface ChunkStore {
  /** One read per table for every patient of the chunk (grants still active at `now`). */
  preload(epids: string[], now: Date): Promise<void>;
  /** The patient's state in this transaction (read now if it was not preloaded, or was changed since). */
  patientState(epid: string, now: Date): Promise<PatientState>;
  /** Buffers one event's decisions, held views and shadow diffs (written by `flush`). */
  record(decisions: DecisionRecord[], held: HeldView[], shadow: ShadowDiff[]): void;
  /** Buffers one delivery receipt (written by `flush`). */
  recordDelivery(receipt: DeliveryReceipt): void;
  /**
   * These patients' consents or grants changed in this transaction — an identity event applied a
   * pending consent or merged persons (a lane's combined commit holds identity and canonical chunks
   * in one transaction): their state is read again when a later event needs it.
   */
  forget(epids: string[]): void;
  /**
   * Writes what is buffered (one statement per table); the store stays usable (a merge writes it before
   * moving decisions). `atEnd` (the complete step, nothing reads them later): with the transaction's
   * closing statement instead of now.
   */
  flush(options?: { atEnd?: boolean }): Promise<void>;
}

/** Every store over one SQL seam (a unit of work inside a transaction, the data source for reads). */
export interface PolicyStores {
  decisions: DecisionStore;
  identities: IdentityIndex;
  consents: ConsentStore;
  grants: GrantStore;
  versions: PolicyVersionStore;
  shadow: ShadowDiffStore;
  deliveries: DeliveryStore;
  held: HeldViewStore;
  /** The consumers' store of this unit of work (one per transaction; never on the data source). */
  readonly chunk: ChunkStore;
}

export type StoresFactory = (sql: { query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]> }) => PolicyStores;

/** Observes decisions for metrics (counted after the transaction's work, not part of it). */
export interface DecisionObserver {
  decided(audience: string, effect: string, purpose: string): void;
  shadowDiffered(audience: string): void;
  /** A delay rule held an audience's view / the timer released it. */
  held(audience: string): void;
  released(audience: string): void;
}

/** Refused requests, kept with their reason (no request body: it may hold PHI). */
export interface RejectionLog {
  record(r: { kind: string; code: string; detail: string; issues: unknown[]; actor: string }): Promise<void>;
}
