import type {
  ChunkStore, ConsentStore, DecisionRecord, DecisionStore, DeliveryReceipt, DeliveryStore, GrantStore, HeldView, HeldViewStore, PatientState, ShadowDiff, ShadowDiffStore,
} from '../../application/ports';

/** The repositories the chunk store reads and writes through (their multi-row statements), over the transaction's SQL seam. */
export interface ChunkRepositories {
  consents: Pick<ConsentStore, 'activeDirectivesFor'>;
  grants: Pick<GrantStore, 'activeFor'>;
  decisions: Pick<DecisionStore, 'insert'>;
  held: Pick<HeldViewStore, 'hold'>;
  shadow: Pick<ShadowDiffStore, 'insert'>;
  deliveries: Pick<DeliveryStore, 'insert'>;
}

/** The chunk's writes only (`flush`). */
export type ChunkWriters = Pick<ChunkRepositories, 'decisions' | 'held' | 'shadow' | 'deliveries'>;

/**
 * Policy's store for one consumer transaction (a chunk of canonical events), written set-based like
 * normalization's `CanonicalChunkStore`: the chunk's patients' consents and grants are read in one
 * statement per table (`preload`, the consumer's prepare step), the handlers decide from that state
 * and buffer their decisions, held views and shadow diffs, and `flush` (the consumer's complete step)
 * writes them as one multi-row statement per table whatever the chunk's size, deferred to the
 * consumer's closing statement — instead of one statement (a round trip) per event and per shadow diff.
 *
 * The result equals handling the events one by one in order:
 * - Nothing the canonical path writes is read by it, so buffering the writes changes no decision.
 *   A row written twice in one chunk (the same event handled twice) keeps the first one, as the
 *   one-by-one `ON CONFLICT DO NOTHING` does; shadow diffs keep their order (their ids).
 * - Consents and grants change only through HTTP (their own transactions) and through identity
 *   events (pending consents applied, merges), which a lane's combined commit can put in the same
 *   transaction as canonical events. The identity handler tells the store: before a merge it writes
 *   the buffered rows (`flush`: the merge then moves the decisions already taken, as it would one by
 *   one), and after a change it has the patients' state read again (`forget`) for the events after it.
 * - Grants are preloaded as of the chunk's start; each decision still checks a grant's expiry at its
 *   own time (`decide`), so a grant expiring during the chunk stops applying when it would.
 */
export class PolicyChunkStore implements ChunkStore {

  private readonly patients = new Map<string, PatientState>();
  private readonly decisions = new Map<string, DecisionRecord>();
  private readonly held = new Map<string, HeldView>();
  private readonly shadow = new Map<string, ShadowDiff>();
  private readonly deliveries = new Map<string, DeliveryReceipt>();

  /**
   * `atEnd`: the same writes deferred to the end of the transaction (`uow.deferWrite`), for the complete
   * step — they ride on the consumer's closing statement instead of a round trip each.
   */
  constructor(private readonly repositories: ChunkRepositories, private readonly atEnd?: ChunkWriters) {}

  /** One read of consents and one of grants for every patient of the chunk not read yet. */
  async preload(epids: string[], now: Date): Promise<void> {
    const wanted = [...new Set(epids)].filter((epid) => epid && !this.patients.has(epid));
    if (!wanted.length) return;
    const consents = await this.repositories.consents.activeDirectivesFor(wanted);
    const grants = await this.repositories.grants.activeFor(wanted, now);
    for (const epid of wanted) this.patients.set(epid, { consents: [], grants: [] });
    for (const c of consents) this.patients.get(c.epid)?.consents.push(c);
    for (const { epid, ...g } of grants) this.patients.get(epid)?.grants.push(g);
  }

  async patientState(epid: string, now: Date): Promise<PatientState> {
    if (!this.patients.has(epid)) await this.preload([epid], now);
    return this.patients.get(epid)!;
  }

  record(decisions: DecisionRecord[], held: HeldView[], shadow: ShadowDiff[]): void {
    for (const d of decisions) if (!this.decisions.has(d.decisionId)) this.decisions.set(d.decisionId, d);
    for (const h of held) if (!this.held.has(h.routedEventId)) this.held.set(h.routedEventId, h);
    for (const s of shadow) {
      const key = [s.candidateVersion, s.canonicalEventId, s.audience].join('\u0000');
      if (!this.shadow.has(key)) this.shadow.set(key, s);
    }
  }

  recordDelivery(receipt: DeliveryReceipt): void {
    if (!this.deliveries.has(receipt.eventId)) this.deliveries.set(receipt.eventId, receipt);
  }

  forget(epids: string[]): void {
    for (const epid of epids) this.patients.delete(epid);
  }

  /**
   * Writes the buffered rows: one multi-row statement per table that has any (four at most) — now, or
   * with `atEnd` (the complete step: nothing reads them later in the transaction) in its closing
   * statement. A merge writes them now: it moves the decisions already taken.
   */
  async flush(options: { atEnd?: boolean } = {}): Promise<void> {
    const writers = options.atEnd && this.atEnd ? this.atEnd : this.repositories;
    const decisions = [...this.decisions.values()];
    const held = [...this.held.values()];
    const shadow = [...this.shadow.values()];
    const deliveries = [...this.deliveries.values()];
    this.decisions.clear();
    this.held.clear();
    this.shadow.clear();
    this.deliveries.clear();
    if (decisions.length) await writers.decisions.insert(decisions);
    if (held.length) await writers.held.hold(held);
    if (shadow.length) await writers.shadow.insert(shadow);
    if (deliveries.length) await writers.deliveries.insert(deliveries);
  }
}
