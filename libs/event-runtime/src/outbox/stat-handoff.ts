/** A stat outbox row as the relay publishes it: its id (commit order) and what was inserted. */
export interface HandedRow {
  id: string;
  topic: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Stat rows handed from a committed transaction (a consumer's chunk, an intake or other
 * `inTransaction` write) to the relay's stat loop, so the loop can publish them without first
 * selecting them back (one round trip less on every stat hop).
 *
 * The statement that inserts a transaction's outbox rows returns the ids of its stat rows, and whether
 * any other stat row was waiting in the outbox when it ran (its snapshot; it cannot see its own rows).
 * Handed rows stand for a full selection only when nothing else can be missing or already gone:
 * - no handed transaction saw another stat row waiting (those are left to the select);
 * - no publish of stat rows finished since the transaction took its ticket (`ticket()`, read before
 *   that statement). A pass that finished meanwhile may have selected the handed rows itself once
 *   they were committed; publishing them again would be a duplicate. The epoch counts those
 *   publishes (`published()`);
 * - no stat rows were committed in this process without being handed over (`unaccounted()`);
 * - they are fewer than a selection would take.
 * Otherwise the loop selects as before. Rows committed by another replica or left by a crash are
 * picked up by a select or the poll, exactly as without handing over.
 */
export class StatHandoff {
  private epoch = 0;
  private handed: Array<{ ticket: number; rows: HandedRow[]; othersWaiting: boolean }> = [];
  /** Set by `unaccounted()` until the next pass. */
  private mustSelect = false;

  /** At most this many transactions' rows are held between two passes; more means the loop is behind: select. */
  static readonly MAX_HELD = 64;

  /** Read before a transaction's closing statement; the hand-over made with it is void once a stat publish finishes. */
  ticket(): number {
    return this.epoch;
  }

  /** After commit: the transaction's stat rows, and whether its closing statement saw other stat rows waiting. */
  hand(ticket: number, rows: HandedRow[], othersWaiting: boolean): void {
    if (this.handed.length <= StatHandoff.MAX_HELD) this.handed.push({ ticket, rows, othersWaiting });
  }

  /** A publish of stat rows finished (whichever loop did it): hand-overs made before it are void. */
  published(): void {
    this.epoch += 1;
  }

  /**
   * Stat rows were committed that nobody handed over (an HTTP request's transaction, a closing statement
   * too large to return them): the next pass must select, or it would leave them to the poll.
   */
  unaccounted(): void {
    this.mustSelect = true;
  }

  /** Forget everything held (the stat loop stops publishing: a re-publication takes over). */
  clear(): void {
    this.handed = [];
    this.mustSelect = false;
  }

  /**
   * At the start of a stat pass: the rows handed over since the last one, in id order, when they are
   * all there is to publish (under `limit`); undefined when the pass must select. Either way the
   * hand-overs are taken.
   */
  take(limit: number): HandedRow[] | undefined {
    const handed = this.handed;
    const mustSelect = this.mustSelect;
    this.clear();
    if (mustSelect || !handed.length || handed.length > StatHandoff.MAX_HELD) return undefined;
    if (handed.some((h) => h.othersWaiting || h.ticket !== this.epoch)) return undefined;
    const rows = handed.flatMap((h) => h.rows);
    if (!rows.length || rows.length >= limit) return undefined;
    return rows.sort((a, b) => compareIds(a.id, b.id));
  }
}

/** bigserial ids as decimal strings, numerically. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
