/** Made-up WhatsApp ids for sync tests: the n-th phone-number user, `@lid` user and group. */
export const pn = (n: number): string => `1555${String(n).padStart(7, '0')}@s.whatsapp.net`;
export const lid = (n: number): string => `2${String(n).padStart(14, '0')}@lid`;
export const group = (n: number): string => `120363${String(n).padStart(12, '0')}@g.us`;
