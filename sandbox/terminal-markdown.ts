// A job summary (GitHub-flavoured markdown with a little HTML) rendered readably for a terminal:
// tables aligned into columns, headings underlined, <details> opened, <pre> output indented,
// HTML entities decoded, mermaid charts replaced by a note. Not a markdown engine; enough for the
// summary this action writes. Used by `npm run sandbox` to show what a reviewer would see.
const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] !== '#') return NAMED_ENTITIES[body.toLowerCase()] ?? whole
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10)
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole
  })
}

/** Markdown inline markup to plain text: links keep their URL, tags go, entities are decoded. */
function plainInline(text: string, lineBreak = ' / '): string {
  const plain = text
    .replace(/\[([^\]]*)\]\(([^)\s]*)\)/g, '$1 ($2)')
    .replace(/\*\*/g, '')
    .replace(/`/g, '')
    .replace(/<br\s*\/?>/gi, lineBreak)
    .replace(/<[^>]*>/g, '')
  return decodeEntities(plain).replace(/[\u200B\u200D]/g, '')
}

function splitRow(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => plainInline(cell.trim()))
}

function width(text: string): number {
  return [...text].length
}

function renderTable(lines: string[]): string[] {
  const rows = lines.filter((line) => !/^\|?\s*:?-{3,}/.test(line)).map(splitRow)
  const rightAligned = (lines[1] ?? '')
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim().endsWith(':'))
  const columns = Math.max(...rows.map((r) => r.length))
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => width(r[i] ?? ''))))
  const format = (row: string[]) =>
    widths
      .map((w, i) => {
        const cell = row[i] ?? ''
        const pad = ' '.repeat(w - width(cell))
        return rightAligned[i] ? pad + cell : cell + pad
      })
      .join('  ')
      .trimEnd()
  const [header, ...body] = rows
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(format)]
}

/**
 * A plain-text rendering of a summary for a terminal: tables aligned into columns, tags
 * stripped, entities decoded, the chart replaced by a note.
 */
export function renderMarkdownForTerminal(markdown: string): string {
  const lines = markdown.split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line.startsWith('```mermaid')) {
      let title = ''
      while (i + 1 < lines.length && !lines[++i].startsWith('```'))
        title ||= /^\s*title "(.*)"$/.exec(lines[i])?.[1] ?? ''
      out.push(`(chart${title ? ` "${title}"` : ''}: see the table below)`)
    } else if (line.startsWith('```')) {
      while (i + 1 < lines.length && !lines[++i].startsWith('```')) out.push(`    ${lines[i]}`)
    } else if (line.startsWith('|')) {
      const tableLines = [line]
      while (i + 1 < lines.length && lines[i + 1].startsWith('|')) tableLines.push(lines[++i])
      out.push(...renderTable(tableLines))
    } else if (/^<pre>/i.test(line)) {
      const first = line.replace(/^<pre>/i, '')
      const body = first ? [first] : []
      while (i + 1 < lines.length && !lines[i + 1].includes('</pre>')) body.push(lines[++i])
      if (i + 1 < lines.length) {
        const end = lines[++i].replace(/<\/pre>.*$/i, '')
        if (end) body.push(end)
      }
      out.push(...body.map((l) => `    ${decodeEntities(l).replace(/[\u200B\u200D]/g, '')}`))
    } else if (/^#{1,6} /.test(line)) {
      const text = plainInline(line.replace(/^#+ /, ''))
      out.push(text, (line.startsWith('## ') ? '=' : '-').repeat(width(text)))
    } else if (/^<details>/i.test(line)) {
      out.push(`▸ ${plainInline(line)}`)
    } else if (/^<\/details>/i.test(line)) {
      continue
    } else {
      out.push(plainInline(line.replace(/^> /, '  '), '\n'))
    }
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`
}
