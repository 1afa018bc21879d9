import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config.ts';
import { createLogger } from '../config/logger.ts';
import { startServer } from '../server.ts';
import { CliError } from './api-client.ts';
import { registerRepoCommands } from './repo-commands.ts';

const program = new Command('gantry')
  .description('Gantry: build an image once, promote the same digest through quality gates')
  .option('--server <url>', 'Gantry to talk to (GANTRY_URL, default http://127.0.0.1:5000)')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the registry (SQLite + local disk under --data)')
  .option('--config <file>', 'YAML config file (GANTRY_CONFIG)')
  .option('--data <dir>', 'data directory (GANTRY_DATA, default ./data)')
  .option('--port <port>', 'port to listen on (GANTRY_PORT, default 5000)')
  .option('--host <host>', 'address to listen on (GANTRY_HOST, default 0.0.0.0)')
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (GANTRY_LOG_LEVEL)')
  .option('--default-repository <key>', 'repository for names without a repository key ("" for none)')
  .action(async (options: Record<string, string | undefined>) => {
    const config = await loadConfig({
      ...(options.config ? { file: options.config } : {}),
      flags: {
        data: options.data,
        port: options.port,
        host: options.host,
        logLevel: options.logLevel,
        defaultRepository: options.defaultRepository,
      },
    });
    const log = createLogger(config.logLevel);
    const server = await startServer(config, log);
    const stop = async (signal: string) => {
      log.info({ signal }, 'shutting down');
      await server.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });

registerRepoCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CliError || e instanceof ConfigError) {
    process.stderr.write(`gantry: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
