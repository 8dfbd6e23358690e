import { Module } from '@nestjs/common';
import { CredentialCipher } from './credential-cipher';
import { credentialCipherProvider } from './credential-cipher.provider';

/** The one cipher for secrets at rest (WhatsApp credentials, media keys, webhook secrets), built once per process. */
@Module({ providers: [credentialCipherProvider], exports: [CredentialCipher] })
export class CredentialCipherModule {}
