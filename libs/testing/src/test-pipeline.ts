import { MllpClient } from '@clinmesh/hl7v2';
import { SERVICE_NAMES, freePort, startMockCluster } from '@clinmesh/embedded-platform';
import { testEnvironment, uniqueName } from './test-environment';
import { WebhookReceiver } from './webhook-receiver';
import { ServiceProcesses, ServiceProcessOptions } from './service-processes';

export type TestPipelineOptions = ServiceProcessOptions;

/**
 * The six real services as separate processes, for one end-to-end test
 * file: its own Kafka-protocol cluster (so no other test's events are on its
 * topics), its own databases on the shared PostgreSQL, the shared schema
 * registry, random ports, and ingest's MLLP listener.
 */
export class TestPipeline extends ServiceProcesses {
  /** Ingest's MLLP port (a new one if the first choice was taken at start). */
  get mllpPort(): number {
    return Number(this.processes.ingest.options.env.INGEST_MLLP_PORT);
  }

  static async start(label: string, options: TestPipelineOptions = {}): Promise<TestPipeline> {
    const env = testEnvironment();
    const kafka = await startMockCluster();
    const pipeline = new TestPipeline(env, uniqueName(label), kafka, SERVICE_NAMES);
    try {
      const mllpPort = await freePort();
      await pipeline.boot(options, (s) => (s === 'ingest' ? { INGEST_MLLP_PORT: String(mllpPort) } : {}));
    } catch (error) {
      // A service that failed to start must not leave the others (and the cluster) running:
      // the test file's after() never sees this pipeline, and live children would hang the run.
      await pipeline.stop().catch(() => undefined);
      throw error;
    }
    return pipeline;
  }

  async sendHl7(message: string, headers: Record<string, string> = {}): Promise<{ status: number; ack: string; messageId: string | null; tier: string | null }> {
    const r = await this.request('ingest', 'POST', '/v1/hl7v2', message, { 'content-type': 'x-application/hl7-v2+er7', ...headers });
    return { status: r.status, ack: r.text, messageId: r.headers.get('x-clinmesh-message-id'), tier: r.headers.get('x-clinmesh-tier') };
  }

  async mllpClient(): Promise<MllpClient> {
    const client = new MllpClient();
    await client.connect('127.0.0.1', this.mllpPort);
    return client;
  }

  async tasks(query: Record<string, string> = {}): Promise<Array<Record<string, any>>> {
    const r = await this.request('task', 'GET', `/v1/tasks?${new URLSearchParams({ limit: '1000', ...query })}`);
    if (r.status !== 200) throw new Error(`GET /v1/tasks → ${r.status} ${r.text}`);
    return r.json().tasks;
  }

  async subscribeWebhook(filter: Record<string, unknown> = {}): Promise<WebhookReceiver> {
    const secret = 'e2e-webhook-secret-0123456789';
    const receiver = new WebhookReceiver(secret);
    const url = await receiver.start();
    const r = await this.request('notifier', 'POST', '/v1/subscriptions', { url, secret, filter, name: 'e2e' });
    if (r.status !== 201) throw new Error(`subscription failed: ${r.status} ${r.text}`);
    return receiver;
  }
}
