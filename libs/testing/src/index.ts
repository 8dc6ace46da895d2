export { testEnvironment, TestEnvironment, uniqueName, waitFor } from './test-environment';
export { adtMessage, oruMessage, hl7Batch, AdtOptions, OruOptions } from './hl7-message.builder';
export { WebhookReceiver, ReceivedDelivery } from './webhook-receiver';
export { TestPipeline, TestPipelineOptions } from './test-pipeline';
