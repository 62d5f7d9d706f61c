import { describe, expect, it } from '@jest/globals'
import { renderSummary } from '../../src/report/summary.js'
import { renderMarkdownForTerminal as renderTerminal } from '../../sandbox/terminal-markdown.js'
import { failureWithEvilOutput } from '../__fixtures__/reports.js'

describe('renderTerminal', () => {
  const text = renderTerminal(renderSummary(failureWithEvilOutput()))
  const lines = text.split('\n')

  it('aligns each table into columns', () => {
    const header = lines.findIndex((l) => /^fleet\s+role\s+version\s+traffic\s+healthy$/.test(l))
    expect(header).toBeGreaterThan(-1)
    const roleAt = lines[header].indexOf('role')
    expect(lines[header + 1]).toMatch(/^-+ {2}-+/)
    expect(lines[header + 2].indexOf('live')).toBe(roleAt)
    expect(lines[header + 3].indexOf('idle → failed')).toBe(roleAt)
    // Right-aligned numbers end in the same column.
    expect(lines[header + 2].length).toBe(lines[header].length)
    expect(lines[header + 3].length).toBe(lines[header].length)
  })

  it('decodes entities, strips tags and markup, and replaces the chart with a note', () => {
    expect(text).toContain('web-green | x')
    expect(text).toContain('    <script>alert(1)</script>')
    expect(text).not.toMatch(/&#\d+;|&lt;|<br>|<details>|<pre>|\u200B/)
    expect(text).toMatch(/^\s*Failed at step 1 \(10% on the new fleet\)/m)
    expect(text).toMatch(/^i-0ddd +Failed \(step 3 \| pipes/m)
    expect(text).not.toContain('xychart-beta')
    expect(text).toContain('(chart "Traffic on the new fleet (%)": see the table below)')
    expect(text).toContain('▸ i-0ddd: Failed, exit 1')
  })
})
