import { createHash } from 'node:crypto';
import { TIERS } from '@clinmesh/topology';
import { ClinmeshError } from '@clinmesh/errors';
import type { ConsumerDefinition } from './consumer-definition';
import { TierSetting, tierValue } from './tier-setting';

/**
 * How a service's consumer definitions are hosted on kafkajs consumers
 * ("lanes"; one lane = one kafkajs consumer, one Kafka group):
 * - `stat-main` (default): every stat definition in `<service>.lane-stat-<fp>`,
 *   everything else in `<service>.lane-main-<fp>`. Two fetch loops per service.
 * - `tier`: one lane per tier, `<service>.lane-<tier>-<fp>`.
 * `<fp>` fingerprints the definitions a lane hosts (names and topics): replicas
 * of one configuration share their lanes' groups, while two instances of one
 * service configured differently (the analytics sink on the identified and on
 * the de-identified topics) never join one group — kafkajs would hand one
 * member's topics to the other.
 * - `definition`: one lane per definition, group `<service>.<name>` (the
 *   runtime's behaviour before lanes: a fetch loop per definition).
 */
export type LaneMode = 'stat-main' | 'tier' | 'definition';
export const LANE_MODES: readonly LaneMode[] = ['stat-main', 'tier', 'definition'];

export function isLaneMode(value: unknown): value is LaneMode {
  return typeof value === 'string' && (LANE_MODES as readonly string[]).includes(value);
}

export interface LanePlan {
  /** `stat`, `main`, a tier, or the definition's name (mode `definition`). */
  name: string;
  /** The lane's Kafka group (Kafka-committed offsets, lag tooling, re-publication pacing). */
  groupId: string;
  /** Fetch max wait: the smallest of its definitions' waits. */
  maxWaitTimeMs: number;
  definitions: ConsumerDefinition[];
}

/**
 * Which lane hosts which definition. A lane routes batches by topic, so two
 * definitions reading the same topic never share a lane (the second goes to
 * `<lane>-2`, …). Lanes are ordered stat first.
 */
export function planLanes(service: string, definitions: readonly ConsumerDefinition[], mode: LaneMode, waitOf: (d: ConsumerDefinition) => number): LanePlan[] {
  if (!isLaneMode(mode)) throw new ClinmeshError('RUNTIME.LANE_MODE', `consumer lane mode must be one of ${LANE_MODES.join(', ')}, not "${String(mode)}"`);
  const lanes = new Map<string, LanePlan>();
  const base = (d: ConsumerDefinition): string => (mode === 'definition' ? d.name : mode === 'tier' ? d.tier : d.tier === 'stat' ? 'stat' : 'main');
  for (const d of definitions) {
    let name = base(d);
    for (let n = 2; lanes.get(name)?.definitions.some((o) => o.topics.some((t) => d.topics.includes(t))); n++) name = `${base(d)}-${n}`;
    const lane = lanes.get(name) ?? { name, groupId: '', maxWaitTimeMs: Number.MAX_SAFE_INTEGER, definitions: [] };
    lane.definitions.push(d);
    lane.maxWaitTimeMs = Math.min(lane.maxWaitTimeMs, waitOf(d));
    lanes.set(name, lane);
  }
  for (const lane of lanes.values()) lane.groupId = mode === 'definition' ? `${service}.${lane.name}` : `${service}.lane-${lane.name}-${fingerprint(lane.definitions)}`;
  return [...lanes.values()].sort((a, b) => laneRank(a) - laneRank(b));
}

/** Eight hex digits naming what a lane hosts: its definitions' names and topics, in any order. */
function fingerprint(definitions: readonly ConsumerDefinition[]): string {
  const members = definitions.map((d) => `${d.name}=${[...d.topics].sort().join(',')}`).sort().join(';');
  return createHash('sha256').update(members).digest('hex').slice(0, 8);
}

function laneRank(lane: LanePlan): number {
  return Math.min(...lane.definitions.map((d) => TIERS.indexOf(d.tier)));
}

/** The fetch wait of a definition: its own, else the runtime's (one number, or per tier). */
export function definitionWait(d: ConsumerDefinition, waits: TierSetting, fallback = 250): number {
  return d.maxWaitTimeMs ?? tierValue(waits, d.tier, fallback);
}
