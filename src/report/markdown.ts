// Small markdown building blocks for the job summary; cells and text must already be escaped.
import { escapeCell } from './escape.js'

/** Size of a text in UTF-8, which is what the runner's summary limit counts. */
export function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** A markdown table; cells must already be escaped. */
export function table(header: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  const rule = `|${header.map((_, i) => (rightAligned[i] ? '---:' : '---')).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

/** `a → b`, or just `a` when it did not change; each side escaped. */
export function change(before: string | undefined, after: string | undefined): string {
  if (before === undefined && after === undefined) return '–'
  if (before === after) return escapeCell(before ?? '')
  return `${before === undefined ? '–' : escapeCell(before)} → ${after === undefined ? '–' : escapeCell(after)}`
}

/** A commit SHA as GitHub shows it; any other version as given. */
export function shortVersion(version: string): string
export function shortVersion(version: string | undefined): string | undefined
export function shortVersion(version: string | undefined): string | undefined {
  return version !== undefined && /^[0-9a-f]{40}$/i.test(version) ? version.slice(0, 7) : version
}

export function percent(weight: number): string {
  return `${round(weight)}%`
}

export function round(n: number): number {
  return Math.round(n * 10) / 10
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19)
}

export function formatDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

export function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** A markdown link, only for an https URL; characters that could end the link are encoded. */
export function link(label: string, url: string | undefined): string | undefined {
  if (!url || !/^https:\/\/[^\s]+$/.test(url)) return undefined
  const safe = url.replace(/[()<>[\]"'`\\|]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
  return `[${label}](${safe})`
}

/**
 * The last lines of an output, at most `maxLines` and about `maxBytes`; looks only at the end
 * of the text, so it is fast however long the output.
 */
export function lastLines(output: string, maxLines: number, maxBytes: number): { text: string; cut: boolean } {
  const full = output.trimEnd()
  if (maxLines <= 0 || maxBytes <= 0) return { text: '', cut: full.length > 0 }
  // Each UTF-16 unit is at least one UTF-8 byte, so the last maxBytes units hold the answer.
  let text = full.slice(-maxBytes).replace(/\r\n?/g, '\n')
  let cut = text.length < full.length
  while (bytes(text) > maxBytes) {
    text = text.slice(Math.ceil(text.length / 8))
    cut = true
  }
  if (/^[\uDC00-\uDFFF]/.test(text)) text = text.slice(1)
  let start = text.length
  for (let i = 0; i < maxLines && start > 0; i++) start = text.lastIndexOf('\n', start - 1)
  if (start > 0) {
    text = text.slice(start + 1)
    cut = true
  }
  return { text: text.replace(/^\n+/, ''), cut }
}
