/** Baileys is ESM-only: it is loaded once, with a real dynamic import, and shared. */
export type Baileys = typeof import('baileys', { with: { 'resolution-mode': 'import' } });

let loading: Promise<Baileys> | undefined;

export function loadBaileys(): Promise<Baileys> {
  loading ??= import('baileys');
  return loading;
}
