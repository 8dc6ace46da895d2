export { TIERS, TIER_RANK, Tier, isTier, higherTier, tiersAbove } from './tier';
export {
  STAGES, Stage, SERVICES, ServiceName, EVENT_TOPICS, PARTITIONS, SERVICE_FLOW, TopicSpec,
  stageTopic, deadLetterTopic, topologyTopics,
} from './topology';
export { HEADER } from './event-header-names';
