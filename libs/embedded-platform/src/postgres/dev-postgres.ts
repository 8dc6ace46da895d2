import { startEmbeddedPostgres } from './embedded-postgres';

/**
 * `node tools/run.js libs/embedded-platform/src/postgres/dev-postgres.js [port]`
 * starts a throwaway PostgreSQL for development and prints its superuser URL
 * (use it as CLINMESH_TEST_PG_URL). Ctrl-C stops it.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? 55433);
  const pg = await startEmbeddedPostgres({ dataDir: `.clinmesh/dev-pg-${port}`, port, fast: true });
  process.stdout.write(`${pg.superuserUrl}\n`);
  const stop = () => void pg.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  setInterval(() => undefined, 60_000);
}
void main();
