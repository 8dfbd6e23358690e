import type { Provider } from '@nestjs/common';
import { SESSION_CONNECTOR } from '../../sessions/session-connector';
import { credentialCipherProvider } from '../auth-state/credential-cipher.provider';
import { PostgresAuthStateStore } from '../auth-state/postgres-auth-state';
import { LeaseFencing } from '../leases/lease-fence';
import { LeaseManager } from '../leases/lease-manager';
import { LeasesRepository } from '../leases/leases.repository';
import { BaileysEngine } from './baileys-engine';
import { BAILEYS_SOCKET_FACTORY, makeBaileysSocket } from './baileys-socket';
import { ConnectionSupervisor } from './connection-supervisor';
import { HolderCommands } from './holder-commands';
import { WHATSAPP_ENGINE } from './whatsapp-engine';

/** Everything that holds sessions' WhatsApp connections: leases, credentials, the engine, the supervisor. */
export const CONNECTION_PROVIDERS: Provider[] = [
  LeasesRepository,
  LeaseFencing,
  LeaseManager,
  credentialCipherProvider,
  PostgresAuthStateStore,
  { provide: BAILEYS_SOCKET_FACTORY, useValue: makeBaileysSocket },
  { provide: WHATSAPP_ENGINE, useClass: BaileysEngine },
  HolderCommands,
  ConnectionSupervisor,
  { provide: SESSION_CONNECTOR, useExisting: ConnectionSupervisor },
];
