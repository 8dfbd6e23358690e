/** Baileys is ESM-only: it is loaded once, with a real dynamic import, and shared. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- typescript-eslint cannot resolve an import type with resolution-mode (an ESM-only package); tsc checks it
export type Baileys = typeof import('baileys', { with: { 'resolution-mode': 'import' } });

let loading: Promise<Baileys> | undefined;

export function loadBaileys(): Promise<Baileys> {
  loading ??= import('baileys');
  return loading;
}
