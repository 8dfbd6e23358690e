/** One person's two addresses: their LID (`…@lid`) and their phone JID (`…@s.whatsapp.net`). */
export interface LidPn {
  lid: string;
  pn: string;
}

/** A pair with the ids of the chats stored under each of its two JIDs (bigint ids as pg's text; null: none). */
export interface MappedRows extends LidPn {
  lid_chat: string | null;
  pn_chat: string | null;
}

/** Two rows for one person: `keep` absorbs `drop`; `keep_is_pn` says whether the kept row was the phone chat. */
export interface LidMerge {
  keep: number;
  drop: number;
  keep_is_pn: boolean;
}

/** A row that ends up as the person's one chat, under the phone JID with the LID as its alternate. */
export interface LidRelabel {
  id: number;
  lid: string;
  pn: string;
}

export interface LidMergePlan {
  merges: LidMerge[];
  relabel: LidRelabel[];
}

/**
 * What to do with the chats of newly linked pairs: when both JIDs have a row, the older row
 * (smaller id) absorbs the newer, whichever of the two it is; the surviving or lone row is then
 * relabelled to the phone JID. Each pair's row is relabelled exactly once.
 */
export function planLidMerge(rows: readonly MappedRows[]): LidMergePlan {
  const merges: LidMerge[] = [];
  const relabel: LidRelabel[] = [];
  for (const row of rows) {
    const lidChat = row.lid_chat === null ? null : Number(row.lid_chat);
    const pnChat = row.pn_chat === null ? null : Number(row.pn_chat);
    if (lidChat !== null && pnChat !== null) {
      const keep = Math.min(lidChat, pnChat);
      merges.push({ keep, drop: Math.max(lidChat, pnChat), keep_is_pn: keep === pnChat });
      relabel.push({ id: keep, lid: row.lid, pn: row.pn });
    } else if (lidChat !== null || pnChat !== null) {
      relabel.push({ id: (lidChat ?? pnChat) as number, lid: row.lid, pn: row.pn });
    }
  }
  return { merges, relabel };
}
