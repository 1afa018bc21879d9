import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config/config.ts';
import { Addressing } from '../repos/addressing.ts';
import { CliError, EXIT } from './api-client.ts';
import { registerAuditCommands } from './audit-commands.ts';
import { registerBuildCommands } from './build-commands.ts';
import { registerGcCommands } from './gc-commands.ts';
import { registerGroupCommands } from './group-commands.ts';
import { registerLifecycleCommands } from './lifecycle-commands.ts';
import { nginxConfig } from './nginx-config.ts';
import { exitQuietlyWhenOutputCloses } from './output.ts';
import { registerPermissionCommands } from './permission-commands.ts';
import { registerPromotionCommands } from './promotion-commands.ts';
import { registerPropertyCommands } from './property-commands.ts';
import { registerRepoCommands } from './repo-commands.ts';
import { registerTagCommands } from './tag-commands.ts';
import { registerTokenCommands } from './token-commands.ts';
import { registerUserCommands } from './user-commands.ts';
import { registerWebhookCommands } from './webhook-commands.ts';

const program = new Command('gantry')
  .description('Gantry: build an image once, promote the same digest through quality gates')
  .option('--server <url>', 'Gantry to talk to (GANTRY_URL, default http://127.0.0.1:5000)')
  .option('--user <name>', 'sign in as this user (GANTRY_USER)')
  .option('--password <password>', 'with this password (GANTRY_PASSWORD; the variable keeps it out of ps)')
  .option('--token <token>', 'or with this API token instead (GANTRY_TOKEN)')
  // Global options go before the command: `user create --password` is the new user's password.
  .enablePositionalOptions()
  .addHelpText('after', '\nGlobal options go before the command: gantry --user admin user list')
  .showHelpAfterError()
  // Commander exits 1 on a usage error by itself; here it throws instead, so that it exits 2.
  // Set before the commands are added: they inherit it.
  .exitOverride();

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
    // Loaded here, not at the top: the client commands start faster without the server's modules.
    const [{ createLogger }, { startServer }] = await Promise.all([
      import('../config/logger.ts'),
      import('../server.ts'),
    ]);
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

program
  .command('proxy-config')
  .description('print a reverse-proxy configuration for the configured host and port mappings')
  .argument('<kind>', 'nginx')
  .option('--config <file>', 'Gantry config file (GANTRY_CONFIG) with repositoryHosts and repositoryPorts')
  .option('--upstream <url>', 'where Gantry answers (default http://127.0.0.1:<port>)')
  .option(
    '--server-name <names>',
    'comma-separated names of the registry itself (default _), besides the mapped hosts',
  )
  .option(
    '--listen-address <address>',
    'address nginx listens on (needed when Gantry shares the host and ports)',
  )
  .option('--listen-port <port>', 'port of the main server block (default 443 with TLS, 80 without)')
  .option('--tls-cert <file>', 'certificate for TLS termination')
  .option('--tls-key <file>', 'its private key')
  .action(async (kind: string, options: Record<string, string | undefined>) => {
    if (kind !== 'nginx') throw new CliError(`unknown proxy kind ${kind}; only nginx is supported`);
    if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
      throw new CliError('--tls-cert and --tls-key go together');
    }
    const config = await loadConfig(options.config ? { file: options.config } : {});
    const addressing = new Addressing({ hosts: config.repositoryHosts, ports: config.repositoryPorts });
    const tls =
      options.tlsCert && options.tlsKey ? { certificate: options.tlsCert, key: options.tlsKey } : undefined;
    const names = (options.serverName ?? '_').split(',').filter((n) => n !== '');
    process.stdout.write(
      nginxConfig({
        upstream: new URL(options.upstream ?? `http://127.0.0.1:${config.port}`),
        serverNames: [...names, ...addressing.hostNames.map((h) => h.host)],
        ports: addressing.extraPorts,
        listenPort: Number(options.listenPort ?? (tls ? 443 : 80)),
        ...(options.listenAddress ? { listenAddress: options.listenAddress } : {}),
        ...(tls ? { tls } : {}),
      }),
    );
  });

registerRepoCommands(program);
registerUserCommands(program);
registerGroupCommands(program);
registerPermissionCommands(program);
registerTokenCommands(program);
registerAuditCommands(program);
registerPropertyCommands(program);
registerBuildCommands(program);
registerTagCommands(program);
registerPromotionCommands(program);
registerLifecycleCommands(program);
registerGcCommands(program);
registerWebhookCommands(program);

exitQuietlyWhenOutputCloses();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Commander has printed its message (or the help) already.
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? EXIT.ok : EXIT.usage);
  if (e instanceof CliError || e instanceof ConfigError) {
    process.stderr.write(`gantry: ${e.message}\n`);
    process.exit(e instanceof CliError ? e.exitCode : EXIT.usage);
  }
  throw e;
}
