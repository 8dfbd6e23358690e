import type { Provider } from '@nestjs/common';
import { SESSION_CONNECTOR } from '../../sessions/session-connector';
import { PostgresAuthStateStore } from '../auth-state/postgres-auth-state';
import { LeaseFencing } from '../leases/lease-fence';
import { LeaseManager } from '../leases/lease-manager';
import { LeasesRepository } from '../leases/leases.repository';
import { BaileysEngine } from './baileys-engine';
import { BAILEYS_SOCKET_FACTORY, makeBaileysSocket } from './baileys-socket';
import { ConnectionSupervisor } from './connection-supervisor';
import { HolderCommands } from './holder-commands';
import { WHATSAPP_ENGINE } from './whatsapp-engine';
import { MESSAGE_MEDIA_FETCHER } from '../../messages/message-media-fetcher';
import { baileysMediaDownload, MEDIA_DOWNLOAD, WhatsAppMediaFetcher } from '../media/whatsapp-media-fetcher';
import { OutboxSender } from '../outbox/outbox-sender';

/** Everything that holds sessions' WhatsApp connections: leases, credentials, the engine, the supervisor. */
export const CONNECTION_PROVIDERS: Provider[] = [
  LeasesRepository,
  LeaseFencing,
  LeaseManager,
  PostgresAuthStateStore,
  { provide: BAILEYS_SOCKET_FACTORY, useValue: makeBaileysSocket },
  { provide: WHATSAPP_ENGINE, useClass: BaileysEngine },
  HolderCommands,
  ConnectionSupervisor,
  { provide: SESSION_CONNECTOR, useExisting: ConnectionSupervisor },
  { provide: MEDIA_DOWNLOAD, useValue: baileysMediaDownload },
  { provide: MESSAGE_MEDIA_FETCHER, useClass: WhatsAppMediaFetcher },
  OutboxSender,
];
