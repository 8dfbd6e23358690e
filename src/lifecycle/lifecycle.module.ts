import { Global, Module } from '@nestjs/common';
import { ShutdownCoordinator } from './shutdown-coordinator';

/** The replica's lifecycle state (draining or not), injectable everywhere. */
@Global()
@Module({ providers: [ShutdownCoordinator], exports: [ShutdownCoordinator] })
export class LifecycleModule {}
