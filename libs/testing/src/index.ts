export { testEnvironment, testEnvironmentVariables, serviceProcessEnv, TestEnvironment, uniqueName, waitFor } from './test-environment';
export { adtMessage, oruMessage, hl7Batch, demographicsFor, AdtOptions, OruOptions } from './hl7-message.builder';
export { WebhookReceiver, ReceivedDelivery, ReceivedAttempt, ReceiverResponse, WebhookReceiverOptions } from './webhook-receiver';
export { TestPipeline, TestPipelineOptions } from './test-pipeline';
export { IngestPipeline, IngestPipelineOptions } from './ingest-pipeline';
export { IngestedTopicReader, IngestedRecord } from './ingested-topic.reader';
export { withMshField, mshField } from './hl7-msh.rewriter';
export { ServiceHarness, ServiceHarnessOptions } from './service-harness';
export { EmbeddedLauncher, LauncherRuntimeFile } from './embedded-launcher';
