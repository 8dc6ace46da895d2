import { serviceLongPollFront } from '@clinmesh/embedded-platform';
/**
 * The embedded platform the test runner started (tools/test-runner.js) and
 * passes down in CLINMESH_TEST_* variables. Integration tests refuse to run
 * without it rather than pass vacuously.
 */
export interface TestEnvironment {
  pgUrl: string;
  kafkaBrokers: string[];
  kafkaControlUrl: string;
  registryUrl: string;
  registryAuth: { username: string; password: string };
  registryBasicAuth: string;
  platformDir: string;
  authSecret: string;
  patientKeySecret: string;
}

export function testEnvironment(): TestEnvironment {
  const e = process.env;
  const missing = ['CLINMESH_TEST_PG_URL', 'CLINMESH_TEST_KAFKA_BROKERS', 'CLINMESH_TEST_KAFKA_CONTROL_URL', 'CLINMESH_TEST_REGISTRY_URL', 'CLINMESH_TEST_REGISTRY_AUTH', 'CLINMESH_TEST_AUTH_SECRET', 'CLINMESH_TEST_PATIENT_KEY_SECRET']
    .filter((k) => !e[k]);
  if (missing.length) {
    throw new Error(`integration tests need the embedded platform: run them with \`npm test\` (tools/test-runner.js). Missing: ${missing.join(', ')}`);
  }
  const basic = e.CLINMESH_TEST_REGISTRY_AUTH!;
  return {
    pgUrl: e.CLINMESH_TEST_PG_URL!,
    kafkaBrokers: e.CLINMESH_TEST_KAFKA_BROKERS!.split(','),
    kafkaControlUrl: e.CLINMESH_TEST_KAFKA_CONTROL_URL!,
    registryUrl: e.CLINMESH_TEST_REGISTRY_URL!,
    registryAuth: { username: basic.slice(0, basic.indexOf(':')), password: basic.slice(basic.indexOf(':') + 1) },
    registryBasicAuth: basic,
    platformDir: e.CLINMESH_TEST_PLATFORM_DIR ?? '.clinmesh/test-platform',
    authSecret: e.CLINMESH_TEST_AUTH_SECRET!,
    patientKeySecret: e.CLINMESH_TEST_PATIENT_KEY_SECRET!,
  };
}

/** The CLINMESH_TEST_* variables describing a running embedded platform (what `testEnvironment()` reads). */
export function testEnvironmentVariables(platform: {
  postgres: { superuserUrl: string }; kafka: { bootstraps: string; controlUrl: string };
  registry: { url: string; basicAuth: string }; secrets: { authSecret: string; patientKeySecret: string }; dir: string;
}): Record<string, string> {
  return {
    CLINMESH_TEST_PG_URL: platform.postgres.superuserUrl,
    CLINMESH_TEST_KAFKA_BROKERS: platform.kafka.bootstraps,
    CLINMESH_TEST_KAFKA_CONTROL_URL: platform.kafka.controlUrl,
    CLINMESH_TEST_REGISTRY_URL: platform.registry.url,
    CLINMESH_TEST_REGISTRY_AUTH: platform.registry.basicAuth,
    CLINMESH_TEST_PLATFORM_DIR: platform.dir,
    CLINMESH_TEST_AUTH_SECRET: platform.secrets.authSecret,
    CLINMESH_TEST_PATIENT_KEY_SECRET: platform.secrets.patientKeySecret,
  };
}

/**
 * Environment of a service process in a test pipeline: the pipeline's own
 * Kafka-protocol cluster, the shared registry, the platform's secrets.
 */
export function serviceProcessEnv(env: TestEnvironment, kafka: { bootstraps: string; controlUrl: string; longPollFront?: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_OPTIONS: '',
    KAFKA_BROKERS: kafka.bootstraps,
    KAFKA_LONG_POLL_FRONT: serviceLongPollFront(kafka),
    SCHEMA_REGISTRY_URL: env.registryUrl,
    SCHEMA_REGISTRY_BASIC_AUTH: env.registryBasicAuth,
    CLINMESH_TOPIC_PROVISIONING: 'mock',
    CLINMESH_KAFKA_CONTROL_URL: kafka.controlUrl,
    CLINMESH_AUTH_SECRET: env.authSecret,
    CLINMESH_PATIENT_KEY_SECRET: env.patientKeySecret,
    CLINMESH_RUNTIME_FILE: '/nonexistent',
    LOG_LEVEL: 'info',
  };
}

/** Unique, lowercase names for databases, topics and groups of one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/**
 * Polls `probe` until it returns a truthy value. `explain`, when given, is asked on timeout what the state is
 * (where an event stopped, say), and its answer is part of the error: a wait that failed once in CI says why.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string; explain?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value as T;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
  const state = options.explain ? await options.explain().catch((error: Error) => `(explaining failed: ${error.message})`) : undefined;
  throw new Error(`timed out waiting for ${options.what ?? 'condition'}${last ? `: ${(last as Error).message}` : ''}${state ? ` — ${state}` : ''}`);
}
