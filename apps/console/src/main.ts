import { createLogger } from '@clinmesh/observability';
import { loadConsoleConfig } from './config/console.config';
import { startConsole } from './adapters/http/console.server';

/** The operations console process: `node tools/run.js apps/console/src/main.js` (npm start launches it on :8090). */
async function main(): Promise<void> {
  const config = loadConsoleConfig();
  const logger = createLogger('console');
  const running = await startConsole(config, { logger });
  logger.info({ url: running.url }, 'console started');
  const stop = () => void running.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'console', msg: 'failed to start', err: { message: (error as Error).message } })}\n`);
  process.exit(1);
});
