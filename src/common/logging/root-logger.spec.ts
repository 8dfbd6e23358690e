import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootLogger } from './root-logger';

describe('createRootLogger', () => {
  let directory: string;
  let file: string;
  let fd: number;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'root-logger-'));
    file = join(directory, 'out.log');
    fd = openSync(file, 'w');
  });
  afterEach(() => {
    closeSync(fd);
    rmSync(directory, { recursive: true, force: true });
  });

  const written = () => readFileSync(file, 'utf8');

  it('writes each line at once by default', () => {
    createRootLogger({ level: 'info', pretty: false, async: false }, fd).info('one');
    expect(JSON.parse(written())).toMatchObject({ level: 30, msg: 'one' });
  });

  it('with LOG_ASYNC, holds a lone line back but writes it within about a second when traffic is too light to fill the buffer', async () => {
    const logger = createRootLogger({ level: 'info', pretty: false, async: true }, fd);
    logger.info('lone line');
    expect(written()).toBe('');
    const deadline = Date.now() + 3000;
    while (written() === '' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(JSON.parse(written())).toMatchObject({ msg: 'lone line' });
  });
});
