import { Logger, Provider } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { CredentialCipher } from './credential-cipher';

/**
 * The cipher for credentials at rest, keyed by CREDENTIALS_ENCRYPTION_KEY. Without it (development),
 * the first replica generates a key and keeps it in the database, the others read it there, the way
 * the cursor secret works; that protects nothing against someone who can read the database, so
 * production must set the variable (and keep it: credentials written with one key cannot be read
 * with another).
 */
export const credentialCipherProvider: Provider = {
  provide: CredentialCipher,
  inject: [AppConfig, DataSource],
  useFactory: async (config: AppConfig, dataSource: DataSource) => {
    if (config.credentialsEncryptionKey) return new CredentialCipher(config.credentialsEncryptionKey);
    new Logger('Credentials').warn(
      'CREDENTIALS_ENCRYPTION_KEY is not set: WhatsApp credentials are encrypted with a key kept in the database itself. Set it in production.',
    );
    await dataSource.query(`INSERT INTO gateway_secrets (name, value) VALUES ('credentials', $1) ON CONFLICT (name) DO NOTHING`, [randomBytes(32)]);
    const [row] = await dataSource.query<{ value: Buffer }[]>(`SELECT value FROM gateway_secrets WHERE name = 'credentials'`);
    return new CredentialCipher(row.value);
  },
};
