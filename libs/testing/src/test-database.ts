import { Client } from 'pg';
import { TestEnvironment } from './test-environment';

/** A database of its own on the test platform's PostgreSQL, for one integration spec. */
export interface TestDatabase {
  url: string;
  /** Drops it, closing whatever connections are still open. */
  drop(): Promise<void>;
}

async function asSuperuser(env: TestEnvironment, sql: string): Promise<void> {
  const admin = new Client({ connectionString: env.pgUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Creates database `name` (a uniqueName) and returns its URL. */
export async function createTestDatabase(env: TestEnvironment, name: string): Promise<TestDatabase> {
  await asSuperuser(env, `CREATE DATABASE "${name}"`);
  return {
    url: env.pgUrl.replace(/\/[^/?]+(\?|$)/, `/${name}$1`),
    drop: () => asSuperuser(env, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
