import { Injectable, MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';
import { AppConfig } from '../config/app-config';
import { ShutdownCoordinator } from '../lifecycle/shutdown-coordinator';
import { EventFilter, EventLogRepository } from './event-log.repository';
import { EventLogTail } from './event-log-tail';
import { formatEventId, GatewayEvent, EventRow } from './gateway-event';

const CATCH_UP_PAGE = 500;
/** Events that may arrive from the tail while a stream is still reading its backlog; past this it is dropped (it resumes). */
const MAX_BUFFERED_WHILE_CATCHING_UP = 10_000;
/** What a client waits before reconnecting after the stream ends (SSE `retry`). */
export const RECONNECT_HINT_MS = 2000;

/** The `data` of an SSE `gap` message: events between the two ids were deleted by retention before this stream could send them. */
export interface StreamGap {
  type: 'gap';
  /** Where the client asked to resume. */
  lastEventId: string;
  /** Where the stream resumes: the newest event retention deleted (also the message's SSE id). */
  resumesAfter: string;
  reason: string;
}

export interface StreamRequest {
  orgId: string;
  filter: EventFilter;
  /** Resume after this id; undefined: from now on. */
  after?: bigint;
}

/**
 * One SSE stream: the org's events after the resume position, from the event log, then live from
 * the replica's tail, each once and in id order. Every message that is not a heartbeat carries
 * an id, so a client that reconnects (after a drop, a slow-consumer cut, or a shutdown) resumes
 * exactly where it stopped.
 */
@Injectable()
export class EventStreamService {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly log: EventLogRepository,
    private readonly tail: EventLogTail,
    private readonly config: AppConfig,
    shutdown: ShutdownCoordinator,
  ) {
    // SIGTERM: every stream ends now, with a retry hint, so clients reconnect to a replica that stays.
    shutdown.onDrain(() => {
      for (const close of [...this.open]) close();
    });
  }

  get openStreams(): number {
    return this.open.size;
  }

  stream(request: StreamRequest): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      let position = request.after ?? this.tail.lastSeenId;
      let buffered: EventRow[] | undefined = [];
      const matches = (row: EventRow) =>
        row.org_id === request.orgId &&
        (!request.filter.types || request.filter.types.includes(row.type)) &&
        (!request.filter.sessionId || row.session_id === request.filter.sessionId);
      const send = (row: EventRow) => {
        const id = BigInt(row.id);
        if (id <= position) return;
        position = id;
        subscriber.next({ id: formatEventId(id), type: row.type, data: GatewayEvent.fromRow(row) });
      };
      const close = () => {
        subscriber.next({ id: formatEventId(position), retry: RECONNECT_HINT_MS, comment: 'shutting down, reconnect' });
        subscriber.complete();
      };
      const unsubscribe = this.tail.subscribe((rows) => {
        const mine = rows.filter(matches);
        if (buffered === undefined) return mine.forEach(send);
        buffered.push(...mine);
        if (buffered.length > MAX_BUFFERED_WHILE_CATCHING_UP) subscriber.complete();
      });
      this.open.add(close);
      // The retry hint first; it carries the resume position as its id (an id-less message would get one from the framework).
      subscriber.next({ id: formatEventId(position), retry: RECONNECT_HINT_MS, comment: 'stream open' });
      const heartbeat = setInterval(() => subscriber.next({ comment: 'heartbeat' }), this.config.events.heartbeatMs);
      // Retention deleted events after the resume position: say so (an SSE `gap` message, with the
      // position it resumes from as its id) rather than skip them silently; the client re-reads state.
      const gap = (sweptThrough: bigint) => {
        if (sweptThrough <= position) return;
        const data: StreamGap = {
          type: 'gap',
          lastEventId: formatEventId(position),
          resumesAfter: formatEventId(sweptThrough),
          reason:
            'events after lastEventId were deleted by retention (EVENTS_RETENTION_HOURS); some may be missing: re-read the state you need from the REST API',
        };
        position = sweptThrough;
        subscriber.next({ id: formatEventId(sweptThrough), type: 'gap', data });
      };
      void this.catchUp(
        request,
        () => position,
        () => subscriber.closed,
        send,
        gap,
      ).then(
        () => {
          const waiting = buffered ?? [];
          buffered = undefined;
          waiting.forEach(send);
        },
        (error) => subscriber.error(error),
      );
      return () => {
        clearInterval(heartbeat);
        unsubscribe();
        this.open.delete(close);
      };
    });
  }

  private async catchUp(
    request: StreamRequest,
    position: () => bigint,
    closed: () => boolean,
    send: (row: EventRow) => void,
    gap: (sweptThrough: bigint) => void,
  ): Promise<void> {
    if (request.after === undefined) return;
    while (!closed()) {
      // Before every page: retention may sweep while a long backlog is read.
      gap(await this.log.sweptThrough(request.orgId));
      if (closed()) return;
      // Up to the settled horizon: above it the tail hands events to the stream as they settle.
      const rows = await this.log.readForOrgAfter(request.orgId, position(), await this.tail.settled(), request.filter, CATCH_UP_PAGE);
      rows.forEach(send);
      if (rows.length < CATCH_UP_PAGE) return;
    }
  }
}
