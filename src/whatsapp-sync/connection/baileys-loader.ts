import type * as BaileysModule from 'baileys' with { 'resolution-mode': 'import' };

/** The `baileys` package (ESM-only). This file and its users in whatsapp-sync are the only place that loads it. */
export type Baileys = typeof BaileysModule;

let loading: Promise<Baileys> | undefined;

/** Loads baileys once, with a real dynamic import (works from CommonJS, in production and under Jest). */
export function loadBaileys(): Promise<Baileys> {
  loading ??= import('baileys');
  return loading;
}
