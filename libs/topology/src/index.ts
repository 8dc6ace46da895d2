export { TIERS, TIER_RANK, Tier, isTier, higherTier, tiersAbove } from './tier';
export {
  STAGES, Stage, SERVICES, ServiceName, EVENT_TOPICS, PARTITIONS, SERVICE_FLOW, TopicSpec,
  EVENT_TOPIC_SCHEMAS, stageTopic, deadLetterTopic, deidentifiedTopic, topologyTopics,
} from './topology';
export { HEADER } from './event-header-names';
