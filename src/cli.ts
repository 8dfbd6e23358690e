import 'reflect-metadata';
import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CliModule } from './cli/cli.module';
import { CommandFailedError, parseCommand, UsageError, USAGE } from './cli/commands';
import { AppConfig } from './config/app-config';
import { startEmbeddedPostgres } from './database/embedded-postgres';
import { describeStartupFailure } from './lifecycle/startup-failure';

/** Nest's console logger writing to stderr: a command's stdout carries only its own output (e.g. --json). */
class StderrLogger extends ConsoleLogger {
  protected printMessages(messages: unknown[], context?: string, logLevel?: LogLevel): void {
    super.printMessages(messages, context, logLevel, 'stderr');
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  // Arguments and configuration first: a typo costs no database start.
  const command = parseCommand(argv);
  let config = AppConfig.fromEnvironment();
  // Same database as `npm start`: the embedded server (reused when the gateway is running) unless DATABASE_URL is set.
  const embedded = config.database.url
    ? undefined
    : await startEmbeddedPostgres({ ...config.database.embedded, log: (line) => process.stderr.write(`${line}\n`) });
  if (embedded) config = AppConfig.fromEnvironment({ ...process.env, DATABASE_URL: embedded.url });
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: new StderrLogger({ logLevels: ['error', 'warn'] }) });
  try {
    return await command(app, (line) => process.stdout.write(`${line}\n`));
  } finally {
    await app.close();
    await embedded?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${USAGE}`);
    else if (error instanceof CommandFailedError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`${describeStartupFailure(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
