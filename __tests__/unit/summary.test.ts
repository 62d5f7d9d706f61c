import { describe, expect, it } from '@jest/globals'
import { escapeCell, escapeHtml, escapeMarkdown } from '../../src/report/escape.js'
import { lastLines } from '../../src/report/markdown.js'
import type { RunReport } from '../../src/report/report.js'
import { DEFAULT_MAX_BYTES, renderSummary } from '../../src/report/summary.js'
import {
  CONSOLE_URL,
  EVIL,
  LOG_URL,
  RUN_URL,
  bigFleet,
  canaryCaughtByAnalysis,
  canarySuccess,
  dryRun,
  failureWithEvilOutput
} from '../__fixtures__/reports.js'

function tables(markdown: string): string[][] {
  const found: string[][] = []
  let current: string[] = []
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) current.push(line)
    else if (current.length) {
      found.push(current)
      current = []
    }
  }
  if (current.length) found.push(current)
  return found
}

const pipes = (line: string) => line.split('|').length - 1

/** The `<pre>` bodies of the summary. */
function preBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/<pre>\n([\s\S]*?)\n<\/pre>/g)].map((m) => m[1])
}

describe('renderSummary: canary success', () => {
  const md = renderSummary(canarySuccess())

  it('titles the result and gives the headline', () => {
    expect(md.split('\n')[0]).toBe('## ✅ Deploy succeeded')
    expect(md).toContain('web-green is live with v1.5.0; web-blue is kept as the previous fleet.')
    expect(md).toContain(`[workflow run](${RUN_URL})`)
    expect(md).not.toContain('Failed at')
  })

  it('shows each fleet with role, version and traffic before and after, and health', () => {
    expect(md).toContain('| **web-green** | idle → live | v1.4.1 → v1.5.0 | 0% → 100% | 2/2 |')
    expect(md).toContain('| **web-blue** | live → previous | v1.4.2 | 100% → 0% | 2/2 |')
  })

  it('names the target groups of each route from their ARNs, in the fleets order', () => {
    expect(md).toContain('| web listener f2f7dc8e | web-blue 100 · web-green 0 | web-blue 0 · web-green 100 |')
    expect(md).not.toContain('fedcba9876543210')
  })

  it('lists each traffic step with weight, UTC start, hold, outcome and checks', () => {
    expect(md).toContain('| 1 | 10% | 12:03:00 | 5m | held | alarm web-5xx OK<br>2/2 targets healthy |')
    expect(md).toContain('| 3 | 100% | 12:13:00 | 5m | held | alarm web-5xx OK |')
  })

  it('links the SSM command and log group, and counts the results', () => {
    expect(md).toContain(`[SSM command](${CONSOLE_URL})`)
    expect(md).toContain(`[log group](${LOG_URL})`)
    expect(md).toContain('**2 instances:** 2 succeeded, 0 failed')
    expect(md).toMatch(/\| i-0ccc \| Success \| 0 \| 42s \|/)
  })

  it('shows a small fleet’s output in collapsed blocks and its health per fleet', () => {
    expect(md).toContain('<details><summary>i-0ccc: Success, exit 0</summary>')
    expect(preBlocks(md)).toEqual(['pulled v1.5.0\nrestarted', 'pulled v1.5.0\nrestarted'])
    expect(md).toContain('<details><summary>web-green: 2/2 healthy</summary>')
  })

  it('draws weight over time with a visible colour and the timeline’s points', () => {
    const chart = /```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1].split('\n') ?? []
    expect(chart[0]).toBe('%%{init: {"themeVariables":{"xyChart":{"plotColorPalette":"#2563eb"}}}}%%')
    expect(chart[1]).toBe('xychart-beta')
    expect(chart).toContain('  x-axis ["before", "12:03:00", "12:08:00", "12:13:00", "12:18:00"]')
    expect(chart).toContain('  line [0, 10, 50, 100, 100]')
    expect(chart).toContain('  y-axis "% of traffic" 0 --> 100')
  })

  it('keeps every table row as wide as its header', () => {
    for (const t of tables(md)) for (const row of t) expect(pipes(row)).toBe(pipes(t[0]))
  })
})

describe("renderSummary: the canary judge's evidence", () => {
  const md = renderSummary(canaryCaughtByAnalysis())

  it("shows each judged step: both fleets' requests, 5xx rate and latency, and the verdict", () => {
    expect(md).toContain('### Canary analysis')
    expect(md).toContain('| 1 (10%) | 1,480 / 13,320 | 0.20% / 0.19% | 21 ms · 80 ms / 20 ms · 78 ms | pass |')
    expect(md).toContain('| 2 (50%) | 2,210 / 2,190 | 7.0% / 0.55% | 22 ms · 95 ms / 20 ms · – | **fail** (early) |')
  })

  it('says why, naming the metric and the numbers, and the failure line says the same', () => {
    expect(md).toMatch(/^- Step 2: 5xx rate 7\.0% on the new fleet &#40;154\/2210&#41; vs 0\.55% on the stable one/m)
    expect(md).toMatch(
      /^> \*\*Failed at step 2 \(50% on the new fleet\), 12:11:00 UTC:\*\* canary analysis: 5xx rate 7\.0%/m
    )
  })

  it("charts both fleets' 5xx rate per step, labelled with the weight, in visible colours", () => {
    const charts = [...md.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1].split('\n'))
    expect(charts).toHaveLength(2)
    const chart = charts[1]
    expect(chart[0]).toBe('%%{init: {"themeVariables":{"xyChart":{"plotColorPalette":"#dc2626, #2563eb"}}}}%%')
    expect(chart).toContain('  x-axis ["step 1 at 10%", "step 2 at 50%"]')
    expect(chart).toContain('  y-axis "5xx rate (%)" 0 --> 9')
    expect(chart).toContain('  line [0.2, 6.97]')
    expect(chart).toContain('  line [0.19, 0.55]')
  })

  it('keeps every table row as wide as its header', () => {
    for (const t of tables(md)) for (const row of t) expect(pipes(row)).toBe(pipes(t[0]))
  })

  it('has no analysis section when the judge did not judge', () => {
    expect(renderSummary(canarySuccess())).not.toContain('Canary analysis')
  })
})

describe('renderSummary: failure with hostile instance output', () => {
  const md = renderSummary(failureWithEvilOutput())

  it('says what failed, when and at which step', () => {
    expect(md.split('\n')[0]).toBe('## ↩️ Deploy rolled back')
    expect(md).toMatch(/^> \*\*Failed at step 1 \(10% on the new fleet\), 12:04:35 UTC:\*\* step 3 &#124; pipes/m)
  })

  it('keeps the tables intact: no pipe or newline from the output breaks a row', () => {
    const found = tables(md)
    expect(found.length).toBeGreaterThanOrEqual(5)
    for (const t of found) for (const row of t) expect(pipes(row)).toBe(pipes(t[0]))
    expect(md).toContain('| **web-green &#124; x** |')
  })

  it('lets none of it become HTML, links, images, mentions, emphasis or a fence', () => {
    expect(md).not.toMatch(/<script/i)
    expect(md).not.toMatch(/<img/i)
    const outsidePre = md.replace(/<pre>[\s\S]*?<\/pre>/g, '')
    expect(outsidePre).not.toContain('**bold**')
    expect(outsidePre).not.toContain('~~gone~~')
    expect(outsidePre).not.toContain('step 3 | pipes')
    expect(md).not.toContain('@octocat')
    expect(md).not.toContain('http://evil.example')
    expect(md).not.toContain('www.evil.example')
    expect(md).not.toContain('http://x')
    // The only links are the ones the summary makes itself.
    const links = [...outsidePre.matchAll(/\]\(([^)]*)\)/g)].map((m) => m[1])
    expect(new Set(links)).toEqual(new Set([RUN_URL, CONSOLE_URL, LOG_URL]))
    // The only fences are the chart's.
    expect(md.split('\n').filter((l) => l.startsWith('```'))).toEqual(['```mermaid', '```'])
    // No heading but the summary's own.
    for (const heading of outsidePre.split('\n').filter((l) => l.startsWith('#'))) {
      expect(heading).toMatch(/^#{2,4} (↩️ Deploy|Warnings|Fleets|Routes|Traffic|Commands|Output|Instance health)/)
    }
  })

  it('puts the failed instance’s output first, HTML-escaped in <pre> inside <details>', () => {
    const failed = md.indexOf('<details><summary>i-0ddd: Failed, exit 1</summary>')
    expect(failed).toBeGreaterThan(-1)
    expect(failed).toBeLessThan(md.indexOf('<details><summary>i-0ccc'))
    const pre = preBlocks(md)[0]
    expect(pre.split('\n')).toHaveLength(EVIL.split('\n').length)
    expect(pre).toContain('step 3 | pipes | here')
    expect(pre).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(pre).not.toMatch(/<\/?[a-z]/i)
    // Failed first in the results table too.
    expect(md.indexOf('| i-0ddd |')).toBeLessThan(md.indexOf('| i-0ccc |'))
  })

  it('marks the failed step in the timeline and lists the restore', () => {
    expect(md).toMatch(/^\| 1 \| 10% \| 12:03:00 \| 1m 35s \| \*\*failed\*\* \| step 3 &#124; pipes/m)
    expect(md).toContain('| restore | 0% | 12:04:35 | – | restored | weights read back |')
    expect(md).toContain('  line [0, 10, 0]')
  })
})

describe('escaping helpers', () => {
  it('turns markdown and HTML specials into character references', () => {
    expect(escapeMarkdown('a|b <i> [x](y) *s* _u_ `c` # ! ~ & \\ $')).toBe(
      'a&#124;b &lt;i&gt; &#91;x&#93;&#40;y&#41; &#42;s&#42; &#95;u&#95; &#96;c&#96; &#35; &#33; &#126; &amp; &#92; &#36;'
    )
  })

  it('breaks URLs, www. names, mentions and issue references with a zero-width space', () => {
    expect(escapeMarkdown('https://evil.example')).toBe('https:\u200B//evil.example')
    expect(escapeMarkdown('WWW.evil.example')).toBe('WWW\u200B.evil.example')
    expect(escapeMarkdown('hi @octocat and a@b.io')).toBe('hi @\u200Boctocat and a@\u200Bb.io')
    expect(escapeMarkdown('fixes #12')).toBe('fixes &#35;\u200B12')
    expect(escapeMarkdown('@ alone')).toBe('@ alone')
  })

  it('keeps text on one line and unable to start a block', () => {
    expect(escapeMarkdown('a\r\nb\nc\rd')).toBe('a<br>b<br>c<br>d')
    expect(escapeMarkdown('- item')).toBe('&#45; item')
    expect(escapeMarkdown('=====')).toBe('&#61;====')
    expect(escapeMarkdown('12. twelve')).toBe('12&#46; twelve')
    expect(escapeMarkdown('    code')).toBe('&#32;   code')
  })

  it('replaces control characters and bidi overrides', () => {
    expect(escapeMarkdown('\u001b[31mred\u202e')).toBe('\uFFFD&#91;31mred\uFFFD')
    expect(escapeHtml('\u001b[0m')).toBe('\uFFFD[0m')
  })

  it('trims and cuts a cell', () => {
    expect(escapeCell('  x|y  ')).toBe('x&#124;y')
    expect(escapeCell('abcdefghij', 5)).toBe('abcd…')
    expect(escapeCell('abc😀def', 5)).toBe('abc…')
  })

  it('escapes HTML in output but keeps its lines', () => {
    expect(escapeHtml('<a href="http://x">&</a>\r\nnext')).toBe('&lt;a href="http:\u200B//x"&gt;&amp;&lt;/a&gt;\nnext')
  })
})

describe('lastLines', () => {
  it('keeps the last lines and says when it cut', () => {
    expect(lastLines('1\n2\n3\n4\n', 2, 1000)).toEqual({ text: '3\n4', cut: true })
    expect(lastLines('1\n2', 5, 1000)).toEqual({ text: '1\n2', cut: false })
  })

  it('keeps at most maxBytes of UTF-8 from the end', () => {
    const { text, cut } = lastLines('é'.repeat(10_000) + '\nend', 100, 64)
    expect(cut).toBe(true)
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(64)
    expect(text.endsWith('\nend')).toBe(true)
    expect(text).not.toContain('\uFFFD')
  })
})

describe('renderSummary: titles', () => {
  const title = (patch: Partial<RunReport>) => renderSummary({ ...canarySuccess(), ...patch }).split('\n')[0]

  it('names the operation and its result', () => {
    expect(title({ operation: 'promote', result: 'paused' })).toBe('## ⏸️ Promote paused')
    expect(title({ result: 'failed' })).toBe('## ❌ Deploy failed')
    expect(title({ operation: 'rollback', result: 'rolled-back' })).toBe('## ✅ Rolled back')
    expect(title({ operation: 'status', result: 'unchanged' })).toBe('## 📋 Status')
  })
})

describe('renderSummary: dry run', () => {
  const md = renderSummary(dryRun())

  it('says it is a dry run that changed nothing', () => {
    expect(md.split('\n')[0]).toBe('## ✅ Deploy dry run succeeded')
    expect(md).toContain('nothing was changed')
  })

  it('shows the plan: fleets, instances, steps, restore and checks', () => {
    expect(md).toContain('- **New fleet:** web-green, 2 instances: i-0ccc, i-0ddd')
    expect(md).toContain('- **Old fleet:** web-blue')
    expect(md).toContain('- **Pauses** at 50% for a later `promote`')
    expect(md).toContain('- **On failure, restore:** web listener f2f7dc8e: web-blue 100 · web-green 0')
    expect(md).toContain('- **Checks:** alarm web-5xx; target health of web-green')
    expect(md).toContain('| step | new fleet | hold |\n|---:|---:|---:|\n| 1 | 10% | 5m |\n| 2 | 50% | 1m 30s |')
  })

  it('has no traffic timeline or chart, since traffic did not move', () => {
    expect(md).not.toContain('```mermaid')
    expect(md).not.toContain('### Traffic')
  })
})

describe('renderSummary: size limit', () => {
  it('keeps 1,000 instances with long outputs under the default limit, fast, failed first', () => {
    const report = bigFleet(1000, 300, 24_000)
    const started = performance.now()
    const md = renderSummary(report)
    expect(performance.now() - started).toBeLessThan(1500)
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(DEFAULT_MAX_BYTES)
    const rows = md.split('\n').filter((l) => /^\| i-0/.test(l) && /\| (\*\*Failed\*\*|Success) \|/.test(l))
    expect(rows).toHaveLength(200)
    expect(rows.every((r) => r.includes('**Failed**'))).toBe(true)
    expect(md).toContain('800 of 1,000 instances not listed (100 of them failed); failed instances are listed first.')
    // Tails are cut to a bounded number of lines.
    const pres = preBlocks(md)
    expect(pres.length).toBeGreaterThan(0)
    for (const pre of pres) expect(pre.split('\n').length).toBeLessThanOrEqual(41)
    expect(md).toMatch(/Output of \d+ more instances is not shown here/)
    for (const t of tables(md)) for (const row of t) expect(pipes(row)).toBe(pipes(t[0]))
  })

  it('cuts output tails before rows to meet a smaller limit', () => {
    const report = bigFleet(1000, 10, 24_000)
    const full = renderSummary(report)
    const md = renderSummary(report, { maxBytes: 48 * 1024 })
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(48 * 1024)
    const longest = (text: string) => Math.max(...preBlocks(text).map((pre) => pre.split('\n').length))
    expect(longest(md)).toBeLessThan(longest(full))
    expect(md.split('\n').filter((l) => /^\| i-0\S+ \| (\*\*Failed\*\*|Success) \|/.test(l))).toHaveLength(200)
    expect(md).toContain('800 of 1,000 instances not listed, all of them succeeded')
    // The failures stay in view; the successes shown fold away.
    const folded = md.indexOf('<details><summary>190 instances that succeeded</summary>')
    expect(folded).toBeGreaterThan(-1)
    expect(md.lastIndexOf('| **Failed** |', folded)).toBeGreaterThan(-1)
    expect(md.indexOf('| Success |')).toBeGreaterThan(folded)
  })

  it('as a last resort cuts the summary with a note, leaving well-formed tables', () => {
    const report = bigFleet(1000, 10, 24_000)
    report.warnings = Array.from({ length: 40 }, (_, i) => `warning ${i} ${'w'.repeat(900)}`)
    const md = renderSummary(report, { maxBytes: 16 * 1024 })
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(16 * 1024)
    expect(md).toContain('**Summary cut here** to stay under 16 KiB.')
    expect(md.startsWith('## ✅ Deploy succeeded')).toBe(true)
    for (const t of tables(md)) {
      expect(t.length).toBeGreaterThanOrEqual(3)
      for (const row of t) expect(pipes(row)).toBe(pipes(t[0]))
    }
  })

  it('measures the limit in UTF-8 bytes', () => {
    const report = canarySuccess()
    report.warnings = Array.from({ length: 50 }, () => '€'.repeat(900))
    const md = renderSummary(report, { maxBytes: 20_000 })
    expect(md.length).toBeLessThan(20_000)
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(20_000)
    expect(md).toContain('Summary cut here')
  })
})
