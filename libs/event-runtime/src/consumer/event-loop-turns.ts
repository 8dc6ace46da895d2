/**
 * Lower-tier work gives the event loop a turn while a higher tier is active.
 *
 * A chunk of a few hundred bulk events is decoded, handled and encoded in long stretches of
 * synchronous work: the `await`s inside them mostly resolve from memory, without I/O, so no other
 * callback runs until the stretch ends. A stat event's transaction in the same process waits
 * behind such a stretch at each of its SQL statements. Measured under a 20,000-message bulk flood
 * (bulk already paced to a quarter of the time): handling one stat event took 30–130 ms instead of
 * a few, and the services' event-loop lag reached 50–90 ms at p99.
 *
 * Taking a turn (`setImmediate`) every few records lets those replies in. It costs microseconds,
 * and is taken only while stat or urgent work was seen here within the last second.
 */
export const RECORDS_PER_TURN = 8;

/** Resolves after the I/O callbacks that are ready have run. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Counts the records of one stretch of work; every `every`-th one takes a turn if a higher tier is active. */
export class TurnTaker {
  /** A taker that never yields (stat work, or a consumer without a tier governor). */
  static readonly never = new TurnTaker(() => false, Number.MAX_SAFE_INTEGER);

  private count = 0;

  /** `onTurn` counts the turns taken (`clinmesh_tier_turns_total`). */
  constructor(private readonly higherTierActive: () => boolean, private readonly every = RECORDS_PER_TURN, private readonly onTurn: () => void = () => undefined) {}

  async afterRecord(): Promise<void> {
    if (++this.count % this.every === 0 && this.higherTierActive()) {
      this.onTurn();
      await nextTurn();
    }
  }
}
