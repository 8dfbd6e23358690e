import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { AppConfig } from '../../config/app-config';
import { fairShare } from './fair-share';
import type { LeaseFence } from './lease-fence';
import { LeasesRepository } from './leases.repository';
import { withTimeout } from '../../common/async/with-timeout';

/** What the lease manager tells the owner of the connections (the supervisor). */
export interface LeaseHolder {
  /** A lease was claimed by the scan: connect the session. */
  acquired(fence: LeaseFence): void;
  /** The lease is gone or could not be renewed in time: drop the connection now, write nothing more. */
  lost(sessionId: string, reason: string): void;
  /** The session was marked stopped while held here: close it, then release. */
  stopRequested(sessionId: string): void;
  /** Rebalancing: close the session and release it so a less loaded replica takes it. */
  shed(sessionId: string): void;
  /** Shutdown: close every connection cleanly; leases are released afterwards. */
  closeAll(): Promise<void>;
}

interface HeldLease {
  fence: LeaseFence;
  /** performance.now() until which the lease is surely still ours (conservative, by our own clock). */
  validUntil: number;
  claimedAt: number;
}

/** Part of the TTL kept as a safety margin: a replica gives a session up this long before the lease can expire. */
const SAFETY_FRACTION = 0.2;
const MAX_SHED_PER_TICK_FRACTION = 0.1;
const SHUTDOWN_STEP_TIMEOUT_MS = 5000;

/**
 * Which sessions this replica holds. Every SESSION_LEASE_RENEW_INTERVAL_MS it heartbeats, renews
 * all its leases in one statement (dropping those it lost), sheds sessions above its fair share,
 * and claims unheld running sessions up to its fair share, each after a random delay of up to
 * SESSION_TAKEOVER_JITTER_MS so that a mass failover does not reconnect everything at once.
 * Takeover of a dead replica's sessions is therefore bounded by TTL + interval + jitter.
 * A watchdog drops any lease whose renewal is overdue before it can expire.
 */
@Injectable()
export class LeaseManager implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Leases');
  private readonly held = new Map<string, HeldLease>();
  private readonly pendingClaims = new Map<string, NodeJS.Timeout>();
  private holder?: LeaseHolder;
  private tickTimer?: NodeJS.Timeout;
  private watchdogTimer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private running = false;
  private draining = false;
  private claimsInFlight = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly leases: LeasesRepository,
  ) {}

  get replicaId(): string {
    return this.config.sessions.replicaId;
  }

  private get settings() {
    return this.config.sessions;
  }

  attach(holder: LeaseHolder): void {
    this.holder = holder;
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.scheduleTick(0);
    const watchdogEvery = Math.max(20, Math.min(1000, Math.floor(this.settings.leaseTtlMs * 0.1)));
    this.watchdogTimer = setInterval(() => this.checkDeadlines(), watchdogEvery).unref();
  }

  /** SIGTERM: stop claiming, close every connection cleanly, then release the leases so others take over at once. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.draining = true;
    clearTimeout(this.tickTimer);
    clearInterval(this.watchdogTimer);
    this.pendingClaims.forEach((timer) => clearTimeout(timer));
    this.pendingClaims.clear();
    // A database that does not answer must not hold the shutdown up: the leases expire anyway.
    const patience = Math.min(this.settings.leaseTtlMs, SHUTDOWN_STEP_TIMEOUT_MS);
    await withTimeout(this.ticking ?? Promise.resolve(), patience).catch(() => undefined);
    await withTimeout(this.leases.heartbeat(this.replicaId, this.settings.capacity, true), patience).catch(() => undefined);
    await this.holder?.closeAll();
    const fences = [...this.held.values()].map((lease) => lease.fence);
    this.held.clear();
    try {
      await withTimeout(this.leases.release(fences), patience);
      await withTimeout(this.leases.removeReplica(this.replicaId), patience);
      if (fences.length > 0) this.logger.log(`released ${fences.length} session lease(s) on shutdown`);
    } catch (error) {
      this.logger.warn(`could not release leases on shutdown; they expire on their own: ${(error as Error).message}`);
    }
  }

  heldSessionIds(): string[] {
    return [...this.held.keys()];
  }

  /**
   * Whether `fence` is surely still this replica's lease now, by its own clock: for what the
   * database cannot fence (a message written to WhatsApp), checked right before doing it, so a
   * process paused past its lease does nothing more once it runs again, before the watchdog's timer.
   */
  holdsSurely(fence: LeaseFence): boolean {
    const lease = this.held.get(fence.sessionId);
    return lease !== undefined && lease.fence.epoch === fence.epoch && lease.validUntil > performance.now();
  }

  fenceOf(sessionId: string): LeaseFence | undefined {
    return this.held.get(sessionId)?.fence;
  }

  holderOf(sessionId: string): Promise<LeaseFence | undefined> {
    return this.leases.holderOf(sessionId);
  }

  isCurrent(fence: LeaseFence): Promise<boolean> {
    return this.leases.isCurrent(fence);
  }

  /**
   * Claims a session to hold it here now (a start over the API), within this replica's capacity
   * (rebalancing evens the spread out later). Undefined when it is held elsewhere or there is no room.
   */
  async claimToHold(sessionId: string): Promise<LeaseFence | undefined> {
    if (!this.running || this.draining) return undefined;
    if (this.held.has(sessionId)) return this.held.get(sessionId)!.fence;
    // The slot is taken before the database answers, so that concurrent starts cannot overshoot.
    if (this.held.size + this.pendingClaims.size + this.claimsInFlight >= this.settings.capacity) return undefined;
    this.claimsInFlight++;
    try {
      return await this.claim(sessionId, true);
    } finally {
      this.claimsInFlight--;
    }
  }

  /**
   * Claims an unheld session only to act on it (stop, logout) and release it straight after;
   * ignores capacity and is not renewed. Undefined when someone holds it.
   */
  claimToAct(sessionId: string): Promise<LeaseFence | undefined> {
    return this.leases.claim(sessionId, this.replicaId, this.settings.leaseTtlMs, false);
  }

  /** Gives a lease up (after its connection closed). */
  async release(fence: LeaseFence): Promise<void> {
    const current = this.held.get(fence.sessionId);
    if (current && current.fence.epoch === fence.epoch) this.held.delete(fence.sessionId);
    await this.leases.release([fence]);
  }

  /** Forgets a lease without touching the row (it is lost already). */
  forget(sessionId: string): void {
    this.held.delete(sessionId);
  }

  /** Runs one tick now (tests use it to avoid waiting for the timer). */
  async tickNow(): Promise<void> {
    await this.ticking;
    await this.tick();
  }

  private scheduleTick(delayMs: number): void {
    if (!this.running) return;
    this.tickTimer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((error: Error) => this.logger.warn(`lease tick failed: ${error.message}`))
        .finally(() => {
          this.ticking = undefined;
          // ±10% so that replicas started together do not tick in lockstep.
          this.scheduleTick(this.settings.leaseRenewIntervalMs * (0.9 + Math.random() * 0.2));
        });
    }, delayMs);
    this.tickTimer.unref();
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    await this.leases.heartbeat(this.replicaId, this.settings.capacity, this.draining);
    await this.renewAll();
    if (!this.running || this.draining || this.settings.capacity === 0) return;
    const census = await this.leases.census(this.settings.leaseTtlMs);
    const target = fairShare(census.runningSessions, census.liveCapacities, this.settings.capacity);
    const holding = this.held.size + this.pendingClaims.size + this.claimsInFlight;
    if (holding > target) this.shedDown(holding - target);
    else if (holding < target) await this.claimUpTo(target - holding);
    if (Math.random() < 0.01) await this.leases.pruneReplicas();
  }

  private async renewAll(): Promise<void> {
    const leases = [...this.held.values()];
    if (leases.length === 0) return;
    const sentAt = performance.now();
    const renewed = await this.leases.renew(
      this.replicaId,
      leases.map((lease) => lease.fence),
      this.settings.leaseTtlMs,
    );
    const renewedById = new Map(renewed.map((lease) => [lease.sessionId, lease]));
    const validUntil = sentAt + this.settings.leaseTtlMs * (1 - SAFETY_FRACTION);
    for (const lease of leases) {
      const current = this.held.get(lease.fence.sessionId);
      if (!current || current.fence.epoch !== lease.fence.epoch) continue;
      const result = renewedById.get(lease.fence.sessionId);
      if (!result) {
        this.held.delete(lease.fence.sessionId);
        this.holder?.lost(lease.fence.sessionId, 'the lease was taken over or the session removed');
        continue;
      }
      current.validUntil = Math.max(current.validUntil, validUntil);
      if (result.desiredState === 'stopped') this.holder?.stopRequested(lease.fence.sessionId);
    }
  }

  /** A lease not renewed in time is given up before the database could let someone else claim it. */
  private checkDeadlines(): void {
    const now = performance.now();
    for (const [sessionId, lease] of this.held) {
      if (lease.validUntil > now) continue;
      this.held.delete(sessionId);
      this.logger.warn(`lease of session ${sessionId} could not be renewed in time; closing its connection`);
      // Not released: the connection may still be closing; the row expires on its own shortly.
      this.holder?.lost(sessionId, 'the lease could not be renewed in time');
    }
  }

  private shedDown(excess: number): void {
    const count = Math.min(excess, Math.max(1, Math.ceil(this.held.size * MAX_SHED_PER_TICK_FRACTION)));
    // The most recently claimed first: they have the least to lose.
    const victims = [...this.held.values()].sort((a, b) => b.claimedAt - a.claimedAt).slice(0, count);
    for (const lease of victims) {
      this.logger.log(`handing session ${lease.fence.sessionId} over to a less loaded replica`);
      this.holder?.shed(lease.fence.sessionId);
    }
  }

  private async claimUpTo(wanted: number): Promise<void> {
    const exclude = [...this.held.keys(), ...this.pendingClaims.keys()];
    const candidates = await this.leases.findClaimable(wanted, exclude);
    for (const sessionId of candidates) {
      const delay = Math.floor(Math.random() * (this.settings.takeoverJitterMs + 1));
      const timer = setTimeout(() => {
        this.pendingClaims.delete(sessionId);
        if (!this.running || this.draining) return;
        // Counted as taken until the database answers, so that a tick meanwhile does not claim past the capacity.
        this.claimsInFlight++;
        this.claim(sessionId, true)
          .then(
            (fence) => fence && this.holder?.acquired(fence),
            (error: Error) => this.logger.warn(`claiming session ${sessionId} failed: ${error.message}`),
          )
          .finally(() => this.claimsInFlight--);
      }, delay);
      timer.unref();
      this.pendingClaims.set(sessionId, timer);
    }
  }

  private async claim(sessionId: string, requireRunning: boolean): Promise<LeaseFence | undefined> {
    const sentAt = performance.now();
    const fence = await this.leases.claim(sessionId, this.replicaId, this.settings.leaseTtlMs, requireRunning);
    if (!fence) return undefined;
    if (!this.running || this.draining) {
      await this.leases.release([fence]);
      return undefined;
    }
    this.held.set(sessionId, { fence, validUntil: sentAt + this.settings.leaseTtlMs * (1 - SAFETY_FRACTION), claimedAt: sentAt });
    this.logger.log(`holding session ${sessionId} (epoch ${fence.epoch})`);
    return fence;
  }
}
