import { ApiPropertyOptional } from '@nestjs/swagger';
import { Injectable, PipeTransform } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { EVENT_TYPES, isEventType } from './event-types';
import type { EventType } from './event-types';
import { parseEventId } from './gateway-event';

/** The query of GET /events/stream. */
export class EventStreamQuery {
  @ApiPropertyOptional({
    type: 'string',
    example: 'message.received,message.updated',
    description: `Only these event types, comma-separated (${EVENT_TYPES.join(', ')}). Omit for every type. A \`gap\` message (events lost to retention) is sent whatever the filter.`,
  })
  types?: EventType[];

  @ApiPropertyOptional({
    type: 'string',
    example: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
    description: "Only events of this session (one of the caller's organization).",
  })
  sessionId?: string;

  @ApiPropertyOptional({
    type: 'string',
    example: '0000000000000004211',
    description: 'Resume after this event id, for a client that cannot send the `Last-Event-ID` header (the header wins when both are given).',
  })
  lastEventId?: string;
}

@Injectable()
export class EventStreamQueryPipe implements PipeTransform<Record<string, unknown>, EventStreamQuery> {
  transform(raw: Record<string, unknown>): EventStreamQuery {
    const query: EventStreamQuery = {};
    const types = single(raw?.types, 'types');
    if (types !== undefined && types !== '') {
      const names = types.split(',').map((name) => name.trim());
      const unknown = names.find((name) => !isEventType(name));
      if (unknown !== undefined)
        throw AppError.invalidArgument(`unknown event type ${JSON.stringify(unknown)} (known: ${EVENT_TYPES.join(', ')})`, { parameter: 'types' });
      query.types = [...new Set(names as EventType[])];
    }
    const sessionId = single(raw?.sessionId, 'sessionId');
    if (sessionId !== undefined && sessionId !== '') query.sessionId = sessionId;
    const lastEventId = single(raw?.lastEventId, 'lastEventId');
    if (lastEventId !== undefined && lastEventId !== '') query.lastEventId = lastEventId;
    return query;
  }
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw AppError.invalidArgument(`${name} must be given once`, { parameter: name });
  return value;
}

/** The position a stream resumes after: Last-Event-ID (header, else query), or undefined for "from now". */
export function resumePosition(header: string | undefined, query: string | undefined): bigint | undefined {
  const [value, parameter] = header !== undefined && header !== '' ? [header, 'Last-Event-ID'] : [query, 'lastEventId'];
  if (value === undefined || value === '') return undefined;
  const id = parseEventId(value);
  if (id === undefined) throw AppError.invalidArgument(`${parameter} must be an event id`, { parameter });
  return id;
}
