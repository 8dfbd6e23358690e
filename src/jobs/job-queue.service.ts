import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ShutdownCoordinator } from '../lifecycle/shutdown-coordinator';
import { JOB_QUEUE_SCHEMA } from './job-queue';
import { JobQueuePool } from './job-queue-pool';

/** While the queue's schema is not installed yet (a migration Job still running), look again this often. */
const SCHEMA_POLL_MS = 2000;
/** How long a stop waits for in-flight jobs, and then for in-flight statements. */
const STOP_WAIT_MS = 5000;

/**
 * The replica's handle on the PostgreSQL job queue (pg-boss): any replica sends and works jobs;
 * a job is fetched by one worker at a time (SELECT ... FOR UPDATE SKIP LOCKED), and a job whose
 * replica died while working it expires and is retried elsewhere. pg-boss has a small pool of its
 * own; its schema is installed by the migration step, never here (`migrate: false`). The replica
 * boots without waiting for it: pg-boss starts once its schema exists, and `started()` resolves then.
 */
@Injectable()
export class JobQueue implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('JobQueue');
  /** Replaced only when a start fails: a pg-boss whose start threw cannot be started again. */
  boss: PgBoss;
  private pool: JobQueuePool;
  private readonly ready: Promise<PgBoss>;
  private settle!: { resolve: (boss: PgBoss) => void; reject: (error: Error) => void };
  private running = false;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  /** Cuts the wait between two looks for the schema short when the replica stops. */
  private readonly stopSignal = new AbortController();

  constructor(
    shutdown: ShutdownCoordinator,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {
    [this.boss, this.pool] = this.createBoss();
    this.ready = new Promise<PgBoss>((resolve, reject) => (this.settle = { resolve, reject }));
    // Nobody has to handle a stop before the start.
    this.ready.catch(() => undefined);
    // After HTTP has drained: in-flight jobs finish (or are handed back to the queue), then the pool closes.
    shutdown.onShutdown('job queue', () => this.stop());
  }

  onApplicationBootstrap(): void {
    this.starting = this.startWhenInstalled();
  }

  /** Resolves once pg-boss has started; rejects if the replica stops first. */
  started(): Promise<PgBoss> {
    return this.ready;
  }

  /** Runs `setup` once the queue has started (registering workers, schedules), logging a failure. */
  whenStarted(what: string, setup: (boss: PgBoss) => Promise<unknown>): void {
    this.ready.then(setup).catch((error: unknown) => {
      if (!this.stopping) this.logger.error({ err: error }, `${what}: setting up on the job queue failed`);
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.settle.reject(new Error('the job queue stopped'));
      this.stopSignal.abort();
      // A stop that lands while pg-boss is starting waits for the start: stopping a half-started
      // pg-boss is a no-op, and its pool and polling workers would then outlive the replica.
      await this.starting;
      if (this.running) await this.boss.stop({ graceful: true, wait: true, timeout: STOP_WAIT_MS });
      await this.pool.close(STOP_WAIT_MS);
    })();
    return this.stopping;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  private createBoss(): [PgBoss, JobQueuePool] {
    const logError = (error: Error) => this.logger.error({ err: error }, 'job queue error');
    const pool = new JobQueuePool(
      { connectionString: this.config.database.url, max: 4, application_name: `whatsapp-gateway/${this.config.sessions.replicaId}/jobs`.slice(0, 63) },
      logError,
    );
    const boss = new PgBoss({
      db: pool,
      schema: JOB_QUEUE_SCHEMA,
      migrate: false,
      maintenanceIntervalSeconds: this.config.jobQueue.maintenanceSeconds,
    });
    boss.on('error', logError);
    return [boss, pool];
  }

  private async startWhenInstalled(): Promise<void> {
    let warned = false;
    while (!this.stopping) {
      try {
        const [row] = await this.dataSource.query<{ installed: boolean }[]>(`SELECT to_regclass($1) IS NOT NULL AS installed`, [`${JOB_QUEUE_SCHEMA}.version`]);
        if (this.stopping) return;
        if (row.installed) {
          this.running = true;
          try {
            await this.boss.start();
          } catch (error) {
            await this.boss.stop({ graceful: false, wait: true }).catch(() => undefined);
            await this.pool.close(STOP_WAIT_MS).catch(() => undefined);
            this.running = false;
            [this.boss, this.pool] = this.createBoss();
            throw error;
          }
          this.settle.resolve(this.boss);
          return;
        }
        if (!warned) this.logger.warn('the job queue schema is not installed yet (run the migrations); webhooks wait for it');
        warned = true;
      } catch (error) {
        this.logger.warn({ err: error }, 'starting the job queue failed; retrying');
      }
      await sleep(SCHEMA_POLL_MS, undefined, { signal: this.stopSignal.signal, ref: false }).catch(() => undefined);
    }
  }
}
