import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createRootLogger } from './root-logger';

describe('createRootLogger', () => {
  let directory: string;
  let file: string;
  let fd: number;
  let logger: pino.Logger | undefined;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'root-logger-'));
    file = join(directory, 'out.log');
    fd = openSync(file, 'w');
    logger = undefined;
  });
  afterEach(async () => {
    // The logger's destination owns the file descriptor: ending it stops the periodic flush and
    // closes the descriptor, which must not be reused by a later file while a write is due.
    const destination = logger && ((logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as NodeJS.EventEmitter & { end(): void });
    if (destination) await new Promise((resolve) => destination.once('close', resolve).end());
    else closeSync(fd);
    rmSync(directory, { recursive: true, force: true });
  });

  const written = () => readFileSync(file, 'utf8');

  it('writes each line at once by default', () => {
    logger = createRootLogger({ level: 'info', pretty: false, async: false }, fd);
    logger.info('one');
    expect(JSON.parse(written())).toMatchObject({ level: 30, msg: 'one' });
  });

  it('with LOG_ASYNC, holds a lone line back but writes it within about a second when traffic is too light to fill the buffer', async () => {
    logger = createRootLogger({ level: 'info', pretty: false, async: true }, fd);
    logger.info('lone line');
    expect(written()).toBe('');
    const deadline = Date.now() + 3000;
    while (written() === '' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(JSON.parse(written())).toMatchObject({ msg: 'lone line' });
  });
});
