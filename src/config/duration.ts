import parseDuration from 'parse-duration'

// Units a workflow author writes; parse-duration also knows years, weeks and locales, which
// would make typos like "5mo" silently valid.
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/

/** Parses `90s`, `5m`, `1h`, `1h30m` or plain seconds into milliseconds; undefined when invalid. */
export function parseDurationMs(text: string): number | undefined {
  const value = text.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1000
  if (!DURATION.test(value)) return undefined
  const ms = parseDuration(value)
  return ms === null || ms === undefined || !Number.isFinite(ms) ? undefined : Math.round(ms)
}

/** A short human form of a duration for logs and the summary: `1m 30s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const totalSeconds = Math.round(ms / 1000)
  const h = Math.floor(totalSeconds / 3600)
  const m = Math.floor((totalSeconds % 3600) / 60)
  const s = totalSeconds % 60
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].filter(Boolean).join(' ')
}
