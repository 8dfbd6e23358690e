import { Global, Module } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { CursorCodec } from './cursor-codec';

/**
 * Every replica must sign cursors with the same secret. `CURSOR_SECRET` sets it; when unset, the
 * first replica to boot generates one and stores it in the database, and the others read it there.
 */
async function loadCursorSecret(config: AppConfig, dataSource: DataSource): Promise<Buffer> {
  if (config.cursorSecret) return createHash('sha256').update(config.cursorSecret).digest();
  await dataSource.query(`INSERT INTO gateway_secrets (name, value) VALUES ('cursor', $1) ON CONFLICT (name) DO NOTHING`, [randomBytes(32)]);
  const [row] = await dataSource.query<{ value: Buffer }[]>(`SELECT value FROM gateway_secrets WHERE name = 'cursor'`);
  return row.value;
}

@Global()
@Module({
  providers: [
    {
      provide: CursorCodec,
      inject: [AppConfig, DataSource],
      useFactory: async (config: AppConfig, dataSource: DataSource) => new CursorCodec(await loadCursorSecret(config, dataSource)),
    },
  ],
  exports: [CursorCodec],
})
export class PaginationModule {}
