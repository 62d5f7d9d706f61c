// A job summary (GitHub-flavoured markdown with a little HTML) rendered readably for a terminal:
// tables as aligned columns, headings underlined, <details> opened, HTML entities decoded,
// mermaid charts replaced by a one-line note. Not a markdown engine; enough for the summary.

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)))
    return ENTITIES[e.toLowerCase()] ?? m
  })
}

function inline(s: string): string {
  return decodeEntities(
    s
      .replace(/<br\s*\/?>/gi, ' · ')
      .replace(/<\/?(code|b|strong|i|em|sub|sup|span|kbd|samp)[^>]*>/gi, '')
      .replace(/\[([^\]]*)\]\(([^)]+)\)/g, '$1 <$2>')
      .replace(/\*\*([^*]+)\*\*/g, '$1')
      .replace(/`([^`]*)`/g, '$1')
  )
}

function splitRow(line: string): string[] {
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '')
  const cells: string[] = []
  let cur = ''
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && body[i + 1] === '|') {
      cur += '|'
      i++
    } else if (body[i] === '|') {
      cells.push(cur)
      cur = ''
    } else cur += body[i]
  }
  cells.push(cur)
  return cells.map((c) => inline(c.trim()))
}

function renderTable(lines: string[], maxCell: number): string[] {
  const rows = lines.filter((l) => !/^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(l)).map(splitRow)
  const clip = (s: string): string => (s.length > maxCell ? s.slice(0, maxCell - 1) + '…' : s)
  const cells = rows.map((r) => r.map(clip))
  const n = Math.max(...cells.map((r) => r.length))
  const widths = Array.from({ length: n }, (_, c) => Math.max(...cells.map((r) => [...(r[c] ?? '')].length)))
  const fmt = (r: string[]): string => r.map((cell, c) => cell + ' '.repeat(widths[c] - [...cell].length)).join('  ').trimEnd()
  const out = [fmt(cells[0]), widths.map((w) => '─'.repeat(w)).join('  ')]
  for (const r of cells.slice(1)) out.push(fmt(r))
  return out.map((l) => '  ' + l)
}

export function renderMarkdownForTerminal(md: string, opts: { maxCell?: number } = {}): string {
  const maxCell = opts.maxCell ?? 60
  const lines = md.split(/\r?\n/)
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (/^```mermaid/.test(line.trim())) {
      while (i + 1 < lines.length && lines[i + 1].trim() !== '```') i++
      i++
      out.push('  (chart: see the markdown file)')
      continue
    }
    if (/^```/.test(line.trim())) {
      i++
      while (i < lines.length && lines[i].trim() !== '```') out.push('    ' + lines[i++])
      continue
    }
    if (line.trim().startsWith('|')) {
      const table: string[] = []
      while (i < lines.length && lines[i].trim().startsWith('|')) table.push(lines[i++])
      i--
      out.push(...renderTable(table, maxCell))
      continue
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line)
    if (h) {
      const text = inline(h[2])
      out.push('', text, (h[1].length <= 2 ? '═' : '─').repeat(Math.min(80, [...text].length)))
      continue
    }
    const summary = /<summary>(.*?)<\/summary>/i.exec(line)
    if (summary) {
      out.push('▸ ' + inline(summary[1]))
      continue
    }
    const stripped = line.replace(/<\/?details[^>]*>/gi, '').replace(/<\/?pre[^>]*>/gi, '')
    if (!stripped.trim() && line.trim()) continue
    out.push(inline(stripped))
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trim() + '\n'
}
