import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventsModule } from '../events/events.module';
import { JobsModule } from '../jobs/jobs.module';
import { SessionsModule } from '../sessions/sessions.module';
import { CredentialCipherModule } from '../whatsapp-sync/auth-state/credential-cipher.module';
import { NetworkPolicy } from './network-policy';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';
import { WebhookWorker } from './webhook-worker';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Webhooks: the API, the dispatcher (event log -> deliveries) and the delivery workers (queue -> HTTP). */
@Module({
  imports: [EventsModule, JobsModule, SessionsModule, CredentialCipherModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksService,
    WebhooksRepository,
    WebhookSecrets,
    WebhookDispatcher,
    WebhookWorker,
    { provide: NetworkPolicy, inject: [AppConfig], useFactory: (config: AppConfig) => new NetworkPolicy(config.webhooks.allowedNetworks) },
    {
      provide: WebhookSender,
      inject: [NetworkPolicy, AppConfig],
      useFactory: (policy: NetworkPolicy, config: AppConfig) => new WebhookSender(policy, config.webhooks.timeoutMs),
    },
  ],
})
export class WebhooksModule {}
