/**
 * The sections of the API reference, in the reference's order. Swagger UI and the committed
 * openapi.json list tags, and the operations under them, in this order (see arrangeDocument).
 *
 * A controller's `@ApiTags(name)` must use one of these names: an operation under a tag missing
 * here is not declared in the document's `tags`, and the Spectral lint (`operation-tag-defined`,
 * `tag-description`) fails `npm test`. A tag no operation uses is left out of the document, so
 * Swagger UI never shows an empty section.
 */
export const API_TAGS: readonly { name: string; description: string }[] = [
  { name: 'Chats', description: "A session's chats, served from the gateway's stored copy." },
  { name: 'Messages', description: "A chat's messages, served from the gateway's stored copy, and their media." },
  {
    name: 'Sessions',
    description: 'Attached WhatsApp numbers: create one, link a phone by QR or pairing code, start, stop, log out.',
  },
  { name: 'API keys', description: 'Keys for scripts and services, each holding a fixed set of capabilities in one organization.' },
  { name: 'Events', description: "A live stream of the organization's events (Server-Sent Events), resumable from the event log." },
  {
    name: 'Webhooks',
    description: 'Signed HTTP deliveries of events to your endpoints: at least once, retried for about three days, inspectable and replayable.',
  },
  { name: 'Health', description: 'Liveness and readiness of this gateway process.' },
];
