import { buildApp } from './app.js';
import { loadConfig, startupRefusal, type AppConfig } from './config.js';
import { openDatabase } from './db.js';

/** Delay before SAAS_FAULT=crash ends the process. */
const CRASH_DELAY_MS = 3_000;

function configOrExit(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    console.error(`saas-app: ${(error as Error).message}`);
    process.exit(2);
  }
}

/** Starts the service: config, live-key guard, database, HTTP, signal handling. */
async function main(): Promise<void> {
  const config = configOrExit();
  const refusal = startupRefusal(config);
  if (refusal !== undefined) {
    console.error(`saas-app: ${refusal}`);
    process.exit(1);
  }

  const db = openDatabase(config.databasePath);
  const { app } = await buildApp({ config, db, defaultMetrics: true });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    db.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
  if (config.fault === 'crash') {
    app.log.warn(`SAAS_FAULT=crash: exiting in ${CRASH_DELAY_MS} ms`);
    setTimeout(() => {
      app.log.fatal('SAAS_FAULT=crash: exiting now');
      process.exit(1);
    }, CRASH_DELAY_MS);
  }
}

main().catch((error: unknown) => {
  console.error('saas-app: failed to start:', error);
  process.exit(1);
});
