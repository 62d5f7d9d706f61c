/** Items in groups of at most `size`: AWS's per-call limits on ids and ARNs. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Runs `work` on every item, `size` at a time: side by side, without a burst that AWS throttles. */
export async function inGroups<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (const group of chunks(items, size)) await Promise.all(group.map(work))
}
