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

/** Unique, lowercase names for databases, topics and groups of one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** Polls `probe` until it returns a truthy value. */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
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
  throw new Error(`timed out waiting for ${options.what ?? 'condition'}${last ? `: ${(last as Error).message}` : ''}`);
}
