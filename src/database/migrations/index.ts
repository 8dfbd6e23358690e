import { InitialSchema1764072000000 } from './1764072000000-initial-schema';
import { ChatSync1764158400000 } from './1764158400000-chat-sync';
import { SessionConnections1764590400000 } from './1764590400000-session-connections';
import { Messages1765000063700 } from './1765000063700-messages';
import { MessageOutbox1765000073637 } from './1765000073637-message-outbox';
import { OrgQuotas1765013000000 } from './1765013000000-org-quotas';
import { EventLog1765018000000 } from './1765018000000-event-log';
import { SessionSendPacingSettings1765021000000 } from './1765021000000-session-send-pacing-settings';
import { MessageEvents1765022000000 } from './1765022000000-message-events';
import { EventLogHorizon1765022100000 } from './1765022100000-event-log-horizon';
import { SessionEventSendPacing1765022200000 } from './1765022200000-session-event-send-pacing';
import { OutboxWrites1765023000000 } from './1765023000000-outbox-writes';
import { OutboxResponseText1796577767720 } from './1796577767720-outbox-response-text';
import { OutboxChatChanges1796579388315 } from './1796579388315-outbox-chat-changes';
import { OutboxWriteAcks1796581050828 } from './1796581050828-outbox-write-acks';
import { MediaStaging1796582246948 } from './1796582246948-media-staging';
import { EventLogUnserialised1796590000000 } from './1796590000000-event-log-unserialised';
import { OutboxAckTimeout1796591000000 } from './1796591000000-outbox-ack-timeout';
import { OutboxQueueDepth1796600000000 } from './1796600000000-outbox-queue-depth';
import { EventTriggerPlans1796610000000 } from './1796610000000-event-trigger-plans';
import { MessagesChatCascade1796620000000 } from './1796620000000-messages-chat-cascade';

/** Every migration, in order. A new migration file is added here too. */
export const MIGRATIONS = [
  InitialSchema1764072000000,
  ChatSync1764158400000,
  SessionConnections1764590400000,
  Messages1765000063700,
  MessageOutbox1765000073637,
  OrgQuotas1765013000000,
  EventLog1765018000000,
  SessionSendPacingSettings1765021000000,
  MessageEvents1765022000000,
  EventLogHorizon1765022100000,
  SessionEventSendPacing1765022200000,
  OutboxWrites1765023000000,
  OutboxResponseText1796577767720,
  OutboxChatChanges1796579388315,
  OutboxWriteAcks1796581050828,
  MediaStaging1796582246948,
  EventLogUnserialised1796590000000,
  OutboxAckTimeout1796591000000,
  OutboxQueueDepth1796600000000,
  EventTriggerPlans1796610000000,
  MessagesChatCascade1796620000000,
];
