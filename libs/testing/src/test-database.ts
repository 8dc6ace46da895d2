import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { TestEnvironment, uniqueName } from './test-environment';

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

/** Migrations as a DataSource takes them (classes). */
export type MigrationClasses = NonNullable<DataSourceOptions['migrations']>;

/**
 * The databases of one integration spec, each created on the test platform's PostgreSQL and migrated
 * with the given migrations (runtime tables and a service's own); `dropAll` in the spec's `after`.
 */
export class MigratedDatabases {
  private readonly open: Array<{ db: DataSource; test: TestDatabase }> = [];

  constructor(private readonly env: TestEnvironment, private readonly migrations: MigrationClasses) {}

  /** A new database (its name from `label`, made unique), migrated and connected. */
  async create(label: string): Promise<DataSource> {
    const test = await createTestDatabase(this.env, uniqueName(label).slice(0, 63));
    const db = new DataSource({ type: 'postgres', url: test.url, migrations: this.migrations, migrationsTableName: 'cm_migrations' });
    await db.initialize();
    await db.runMigrations({ transaction: 'all' });
    this.open.push({ db, test });
    return db;
  }

  async dropAll(): Promise<void> {
    for (const { db, test } of this.open.splice(0)) {
      await db.destroy();
      await test.drop();
    }
  }
}
