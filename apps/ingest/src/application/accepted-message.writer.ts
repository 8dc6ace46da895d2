import { EventOrigin, GroupCommit } from '@clinmesh/event-runtime';
import type { IngestedEvent } from '@clinmesh/schemas';
import { AcceptedMessageRow, EventPublisherPort, MessageStorePort } from './intake.ports';

/** An accepted message as it is written: its row, and the ingested event emitted with it (only if the row is new). */
export interface AcceptedMessage {
  row: AcceptedMessageRow;
  origin: EventOrigin;
  event: { topic: string; key: string | null; value: IngestedEvent };
}

/** A group's size is counted in 16 KiB pieces of raw message: at most 64 small messages, or ~1 MiB. */
const GROUP_PIECE_BYTES = 16_384;
const GROUP_MAX_PIECES = 64;

/**
 * Writes accepted messages (HL7 v2 and FHIR alike) with their ingested events, in group commits:
 * messages that arrive while a commit is in flight — other MLLP connections, other HTTP requests —
 * go together into the next transaction (one lock statement, one multi-row insert, one outbox
 * write, one WAL flush). A message alone commits at once, so an idle front door never holds an
 * ACK. Every sender still gets its ACK only after its own message is committed.
 *
 * Why: each accepted message was its own transaction of five round trips and a WAL flush; with
 * eight interface-engine connections sending at once, that fixed cost was most of ingest's CPU per
 * message. Grouping also hands the relay a group's events together, so identity-resolution fetches
 * them together.
 */
export class AcceptedMessageWriter {
  private readonly group: GroupCommit<AcceptedMessage, { flags: string[] } | undefined>;

  constructor(store: MessageStorePort, events: EventPublisherPort) {
    this.group = new GroupCommit<AcceptedMessage, { flags: string[] } | undefined>({
      maxWeight: GROUP_MAX_PIECES,
      weight: (m) => 1 + Math.floor(m.row.raw.length / GROUP_PIECE_BYTES),
      commit: (messages) => events.inTransactionEach(messages.map((m) => m.origin), async (contexts) => {
        // One transaction: every context carries the same unit of work.
        const stored = await store.insertAccepted(contexts[0].uow, messages.map((m) => m.row));
        stored.forEach((row, i) => {
          if (row) contexts[i].emit(messages[i].event);
        });
        return stored;
      }),
    });
  }

  /** Stores the message and emits its event; `undefined` when the same sender + control id + content is already stored (nothing written). */
  write(message: AcceptedMessage): Promise<{ flags: string[] } | undefined> {
    return this.group.submit(message);
  }
}
