/**
 * Every event type the gateway publishes (docs/events.md has an example of each).
 * - `chat.updated`: a chat appeared or a field List chats shows changed; `data` is the chat as List chats shows it.
 * - `chat.deleted`: a chat left the list (deleted on the phone, or merged into the person's other chat).
 * - `message.received`: a message the sync stored first appeared (not one sent through the API, not a history sync's); `data` is the message as GET /sessions/{session}/messages/{message} shows it.
 * - `message.updated`: a field that message resource shows changed (status, edit, revoke, reaction, ...).
 * - `session.status`: a session's status changed; `data` is the session as GET /sessions/{id} shows it.
 * - `webhook.disabled`: a webhook was disabled after its deliveries kept failing; `data` is the webhook.
 */
export const EVENT_TYPES = ['chat.updated', 'chat.deleted', 'message.received', 'message.updated', 'session.status', 'webhook.disabled'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
