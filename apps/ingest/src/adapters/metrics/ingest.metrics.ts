import { Counter } from 'prom-client';
import type { RuntimeMetrics } from '@clinmesh/observability';
import type { MllpServerEvent } from '@clinmesh/hl7v2';

type IntakeOutcome = 'accepted' | 'duplicate' | 'rejected';

/**
 * Ingest's Prometheus counters, registered once per process on the
 * service's registry (one instance, held by the Nest container).
 */
export class IngestMetrics {
  private readonly messages: Counter<string>;
  private readonly reuse: Counter<string>;
  private readonly mllpEvents: Counter<string>;
  private readonly mllpRefusals: Counter<string>;
  private readonly intakeClosed: Counter<string>;
  private readonly bulkPaused: Counter<string>;

  constructor(metrics: RuntimeMetrics) {
    const registers = [metrics.registry];
    this.messages = new Counter({
      name: 'clinmesh_ingest_messages_total', help: 'Messages received by sender, type, tier, channel and outcome (accepted, duplicate, rejected by reason)',
      labelNames: ['sender', 'message_type', 'tier', 'outcome', 'reason', 'channel'], registers,
    });
    this.reuse = new Counter({
      name: 'clinmesh_ingest_control_id_reuse_total',
      help: 'Messages accepted under a control id (HL7 MSH-10 / FHIR id) the sender already used for different content; flagged control-id-reuse',
      labelNames: ['sender', 'message_type', 'channel', 'format'], registers,
    });
    this.mllpEvents = new Counter({
      name: 'clinmesh_mllp_events_total', help: 'MLLP connection events (connection, disconnect, frame, garbage, oversized, idle-timeout, frame-timeout, connection-rejected, error)',
      labelNames: ['type'], registers,
    });
    this.mllpRefusals = new Counter({
      name: 'clinmesh_mllp_refusals_total',
      help: 'MLLP connections refused or cut by a limit: frame-timeout (frame not ended within its read deadline), max-connections-per-source, max-connections, closing',
      labelNames: ['reason'], registers,
    });
    this.bulkPaused = new Counter({
      name: 'clinmesh_ingest_bulk_paced_seconds_total',
      help: 'Time batch-file intake paused between groups to give way to stat and urgent messages (INGEST_BULK_SHARE)', registers,
    });
    this.intakeClosed = new Counter({
      name: 'clinmesh_ingest_intake_closed_total', help: 'HTTP intake requests answered 503 because intake is closed (graceful stop)',
      labelNames: ['route'], registers,
    });
  }

  outcome(l: { sender: string; messageType: string; tier: string; outcome: IntakeOutcome; reason?: string; channel: string }): void {
    this.messages.inc({ sender: l.sender, message_type: l.messageType, tier: l.tier, outcome: l.outcome, reason: l.reason ?? '', channel: l.channel });
  }

  controlIdReuse(l: { sender: string; messageType: string; channel: string; format: string }): void {
    this.reuse.inc({ sender: l.sender, message_type: l.messageType, channel: l.channel, format: l.format });
  }

  mllp(event: MllpServerEvent): void {
    this.mllpEvents.inc({ type: event.type });
    if (event.type === 'frame-timeout') this.mllpRefusals.inc({ reason: 'frame-timeout' });
    if (event.type === 'connection-rejected') this.mllpRefusals.inc({ reason: event.reason });
  }

  bulkIntakePaused(ms: number): void {
    this.bulkPaused.inc(ms / 1000);
  }

  intakeClosedRefusal(route: string): void {
    this.intakeClosed.inc({ route });
  }
}
