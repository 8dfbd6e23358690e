import { ulid } from 'ulid';

export function newSessionId(): string {
  return ulid();
}
