import { routeLabel, targetGroupName } from './arn.js'
import { formatDuration } from './duration.js'
import type { Weights } from './forward-action.js'
import type {
  CommandReport,
  FleetReport,
  InstanceCommandResult,
  InstanceHealth,
  PlanReport,
  Result,
  RunReport,
  TimelineEntry
} from './report.js'

/**
 * The runner rejects a step summary over 1 MiB; half of that leaves room for the notes the
 * renderer adds when it cuts, and for UTF-8 surprises.
 */
export const DEFAULT_MAX_BYTES = 512 * 1024

/** The colour of the weight line: the default theme draws it nearly invisible. */
const CHART_COLOUR = '#2563eb'

/** A zero-width space: breaks `://`, `www.` and `@name` so GitHub links none of them. */
const ZWSP = '\u200B'

/** Longest cell text from AWS or an instance, so that one long reason cannot widen a table. */
const CELL_MAX_CHARS = 300

/** Fleets up to this size also show the output of instances that succeeded. */
const SMALL_FLEET = 10

// ---------------------------------------------------------------------------------------------
// Escaping: every string from AWS or an instance goes through one of these before it is written.
// ---------------------------------------------------------------------------------------------

// Control characters (ANSI escapes among them) and bidi overrides, which could spoof the text
// around them; shown as U+FFFD.
const UNSAFE = '\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F\\u202A-\\u202E\\u2066-\\u2069'
// Markdown and HTML specials, line breaks, and what GitHub autolinks (`scheme://`, `www.`,
// `@mention`, `#123`).
const MARKDOWN_SPECIAL = new RegExp(`\\r\\n?|\\n|:\\/\\/|www\\.|[\\\\\`*_[\\]()#!|<>&~$@${UNSAFE}]`, 'gi')
const UNSAFE_CHAR = new RegExp(`[${UNSAFE}]`)
// Backticks and tildes too, so that a fence in the output stays text even to a renderer that
// does not keep `<pre>` raw.
const HTML_SPECIAL = new RegExp(`\\r\\n?|:\\/\\/|www\\.|[<>&#@\`~${UNSAFE}]`, 'gi')

/** Would GitHub turn `@` or `#` at this offset into a mention or an issue link? */
function startsReference(text: string, offset: number): boolean {
  return /[\p{L}\p{N}_]/u.test(text.charAt(offset + 1))
}

function linkBreak(match: string, offset: number, text: string): string | undefined {
  if (match === '://') return `:${ZWSP}//`
  if (match.length === 4) return `${match.slice(0, 3)}${ZWSP}.` // www.
  if (match === '@') return startsReference(text, offset) ? `@${ZWSP}` : '@'
  if (match === '#' && startsReference(text, offset)) return `&#35;${ZWSP}`
  if (match.length === 1 && UNSAFE_CHAR.test(match)) return '\uFFFD'
  return undefined
}

function markdownReplacement(match: string, offset: number, text: string): string {
  const linked = linkBreak(match, offset, text)
  if (linked !== undefined) return linked
  switch (match) {
    case '\n':
    case '\r':
    case '\r\n':
      return '<br>'
    case '&':
      return '&amp;'
    case '<':
      return '&lt;'
    case '>':
      return '&gt;'
    default:
      return `&#${match.charCodeAt(0)};`
  }
}

function htmlReplacement(match: string, offset: number, text: string): string {
  const linked = linkBreak(match, offset, text)
  if (linked !== undefined) return linked
  switch (match) {
    case '&':
      return '&amp;'
    case '<':
      return '&lt;'
    case '>':
      return '&gt;'
    case '#':
      return '#'
    case '`':
    case '~':
      return `&#${match.charCodeAt(0)};`
    default:
      return '\n' // \r or \r\n
  }
}

/**
 * Text from AWS or an instance, made safe to place inline in markdown or HTML: the result is one
 * line, every markdown and HTML special is a character reference, and URLs, `www.` and
 * `@mentions` are broken with a zero-width space so that GitHub links none of them. It also
 * cannot start a block (list, heading, setext underline, code indent) at the start of a line.
 */
export function escapeMarkdown(text: string): string {
  const escaped = text.replace(MARKDOWN_SPECIAL, markdownReplacement)
  const number = /^(\d{1,9})\./.exec(escaped)
  if (number) return `${number[1]}&#46;${escaped.slice(number[0].length)}`
  return /^[-+= \t]/.test(escaped) ? `&#${escaped.charCodeAt(0)};${escaped.slice(1)}` : escaped
}

/** Text for a table cell: escaped as by `escapeMarkdown`, trimmed and cut to `maxChars`. */
export function escapeCell(text: string, maxChars = CELL_MAX_CHARS): string {
  let value = text.trim()
  if (value.length > maxChars) {
    let end = maxChars - 1
    // Do not split a surrogate pair.
    if (/[\uDC00-\uDFFF]/.test(value.charAt(end))) end -= 1
    value = `${value.slice(0, end)}…`
  }
  return escapeMarkdown(value)
}

/**
 * Text for inside `<pre>`: HTML-escaped with its lines kept (a fenced block would not do, since
 * a fence in the output would close it), links and mentions broken as in `escapeMarkdown`.
 */
export function escapeHtml(text: string): string {
  return text.replace(HTML_SPECIAL, htmlReplacement)
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/** How much per-instance detail fits; tried in order until the summary is under its limit. */
interface Detail {
  /** Rows in each per-instance table (command results, target health). */
  rows: number
  /** Output tails shown, failed instances first. */
  tails: number
  tailLines: number
  tailBytes: number
}

// Output tails are cut first, then rows; the last resort (cutting blocks) is in `fitBlocks`.
const DETAIL_LEVELS: Detail[] = [
  { rows: 200, tails: 50, tailLines: 40, tailBytes: 4096 },
  { rows: 200, tails: 50, tailLines: 15, tailBytes: 1536 },
  { rows: 200, tails: 20, tailLines: 8, tailBytes: 768 },
  { rows: 200, tails: 5, tailLines: 5, tailBytes: 512 },
  { rows: 100, tails: 0, tailLines: 0, tailBytes: 0 },
  { rows: 50, tails: 0, tailLines: 0, tailBytes: 0 },
  { rows: 20, tails: 0, tailLines: 0, tailBytes: 0 }
]

const RESULT_TITLE: Record<Result, [emoji: string, word: string]> = {
  succeeded: ['✅', 'succeeded'],
  paused: ['⏸️', 'paused'],
  'rolled-back': ['↩️', 'rolled back'],
  failed: ['❌', 'failed'],
  unchanged: ['➖', 'unchanged']
}

/** `✅ Deploy succeeded`, `⏸️ Deploy dry run paused`; a rollback that worked is a success. */
function titleText(report: RunReport): string {
  const [emoji, word] = RESULT_TITLE[report.result]
  const dry = report.dryRun ? ' dry run' : ''
  if (report.operation === 'rollback' && report.result === 'rolled-back') return `✅ Rolled back${dry}`
  if (report.operation === 'status' && report.result === 'unchanged') return `📋 Status`
  return `${emoji} ${capitalise(report.operation)}${dry} ${word}`
}

/**
 * The job summary for a run, as GitHub-flavoured markdown, under `maxBytes` (UTF-8). Per-instance
 * detail is reduced to fit: output tails first, then table rows, and as a last resort the
 * summary is cut with a note.
 */
export function renderSummary(report: RunReport, opts: { maxBytes?: number } = {}): string {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  const head = [
    ...titleBlocks(report),
    ...failureBlocks(report),
    ...warningBlocks(report.warnings),
    ...fleetBlocks(report.fleets),
    ...routeBlocks(report),
    ...(report.plan ? planBlocks(report.plan, report) : []),
    ...timelineBlocks(report.timeline)
  ]
  const headBytes = blocksBytes(head)
  const commands = report.commands ? orderCommandResults(report.commands) : undefined
  let blocks = head
  for (const detail of DETAIL_LEVELS) {
    const tail = [
      ...(report.commands && commands ? commandBlocks(report.commands, commands, detail) : []),
      ...healthBlocks(report.fleets, detail)
    ]
    blocks = [...head, ...tail]
    if (headBytes + blocksBytes(tail) + SEPARATOR_BYTES + 1 <= maxBytes) return joinBlocks(blocks)
  }
  return joinBlocks(fitBlocks(blocks, maxBytes, report))
}

const SEPARATOR = '\n\n'
const SEPARATOR_BYTES = SEPARATOR.length

function joinBlocks(blocks: string[]): string {
  return `${blocks.join(SEPARATOR)}\n`
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

function blocksBytes(blocks: string[]): number {
  return blocks.reduce((sum, block) => sum + bytes(block) + SEPARATOR_BYTES, 0)
}

// --- title, failure, warnings -----------------------------------------------------------------

function titleBlocks(report: RunReport): string[] {
  const title = `## ${titleText(report)}`
  const facts = [
    report.version !== undefined ? `Version **${escapeMarkdown(shortVersion(report.version))}**` : undefined,
    `started ${formatDate(report.startedAt)}`,
    `took ${formatDuration(Math.max(0, report.finishedAt - report.startedAt))}`,
    report.dryRun ? 'nothing was changed' : undefined,
    link('workflow run', report.runUrl)
  ].filter((fact): fact is string => fact !== undefined)
  const blocks = [title]
  if (report.headline.trim()) blocks.push(escapeMarkdown(report.headline.trim()))
  blocks.push(facts.join(' · '))
  return blocks
}

function failureBlocks(report: RunReport): string[] {
  const failure = report.failure
  if (!failure) return []
  const where =
    failure.step === 0
      ? 'before traffic moved'
      : `at step ${failure.step} (${percent(failure.weight)} on the new fleet)`
  return [`> **Failed ${where}, ${formatTime(failure.at)} UTC:** ${escapeMarkdown(failure.what)}`]
}

const MAX_WARNINGS = 50

function warningBlocks(warnings: string[]): string[] {
  if (warnings.length === 0) return []
  const shown = warnings.slice(0, MAX_WARNINGS).map((w) => `- ⚠️ ${escapeCell(w, 1000)}`)
  if (warnings.length > MAX_WARNINGS) shown.push(`- and ${warnings.length - MAX_WARNINGS} more warnings in the log`)
  return ['### Warnings', shown.join('\n')]
}

// --- fleets and routes ------------------------------------------------------------------------

function fleetBlocks(fleets: FleetReport[]): string[] {
  if (fleets.length === 0) return []
  const rows = fleets.map((fleet) => [
    `**${escapeCell(fleet.name)}**`,
    change(fleet.roleBefore, fleet.roleAfter),
    change(shortVersion(fleet.versionBefore), shortVersion(fleet.versionAfter)),
    change(percent(fleet.weightBefore), percent(fleet.weightAfter)),
    `${fleet.instances.filter(isHealthy).length}/${fleet.instances.length}`
  ])
  return ['### Fleets', table(['fleet', 'role', 'version', 'traffic', 'healthy'], rows, [false, false, false, true, true])]
}

function routeBlocks(report: RunReport): string[] {
  if (report.routes.length === 0) return []
  const order = report.fleets.map((f) => f.targetGroupArn)
  const rows = report.routes.map((route) => [
    escapeCell(route.label),
    formatWeights(route.before, order),
    formatWeights(route.after, order)
  ])
  return ['### Routes', table(['route', 'weights before', 'weights after'], rows)]
}

/** `blue 100 · green 0`, in the fleets' order. */
function formatWeights(weights: Weights, order: string[]): string {
  const arns = Object.keys(weights).sort((a, b) => rank(order, a) - rank(order, b))
  return arns.map((arn) => `${escapeCell(targetGroupName(arn))} ${weights[arn]}`).join(' · ') || '–'
}

function rank(order: string[], arn: string): number {
  const i = order.indexOf(arn)
  return i < 0 ? order.length : i
}

// --- plan -------------------------------------------------------------------------------------

const PLAN_INSTANCES_SHOWN = 10

function planBlocks(plan: PlanReport, report: RunReport): string[] {
  const ids = plan.instanceIds
  const shownIds = ids.slice(0, PLAN_INSTANCES_SHOWN).map((id) => escapeMarkdown(id))
  if (ids.length > PLAN_INSTANCES_SHOWN) shownIds.push(`and ${ids.length - PLAN_INSTANCES_SHOWN} more`)
  const facts = [
    `- **New fleet:** ${escapeMarkdown(plan.newFleet)}, ${count(ids.length, 'instance')}${ids.length ? `: ${shownIds.join(', ')}` : ''}`,
    `- **Old fleet:** ${escapeMarkdown(plan.oldFleet)}, keeps running so that going back is one weight change`
  ]
  const last = plan.steps.at(-1)
  if (plan.pauses && last) facts.push(`- **Pauses** at ${percent(last.weight)} for a later \`promote\``)
  const restore = Object.entries(plan.restore).map(([arn, weights]) => {
    const label = report.routes.find((r) => r.arn === arn)?.label ?? routeLabel(arn)
    return `${escapeMarkdown(label)}: ${formatWeights(weights, report.fleets.map((f) => f.targetGroupArn))}`
  })
  facts.push(`- **On failure, restore:** ${restore.length ? restore.join('; ') : 'nothing (traffic does not move)'}`)
  facts.push(
    `- **Checks:** ${plan.checks.length ? plan.checks.map((c) => escapeMarkdown(c)).join('; ') : 'target health only'}`
  )
  const blocks = ['### Plan', facts.join('\n')]
  if (plan.steps.length) {
    const rows = plan.steps.map((s, i) => [String(i + 1), percent(s.weight), formatDuration(s.holdMs)])
    blocks.push(table(['step', 'new fleet', 'hold'], rows, [true, true, true]))
  }
  return blocks
}

// --- timeline and chart -----------------------------------------------------------------------

const OUTCOME: Record<TimelineEntry['outcome'], string> = {
  held: 'held',
  failed: '**failed**',
  paused: 'paused',
  restored: 'restored',
  cancelled: '**cancelled**'
}

const MAX_CHECKS_SHOWN = 10

function timelineBlocks(timeline: TimelineEntry[]): string[] {
  if (timeline.length === 0) return []
  const rows = timeline.map((entry) => {
    const checks = entry.checks.slice(0, MAX_CHECKS_SHOWN).map((c) => escapeCell(c))
    if (entry.checks.length > MAX_CHECKS_SHOWN) checks.push(`and ${entry.checks.length - MAX_CHECKS_SHOWN} more`)
    return [
      entry.step === 0 ? 'restore' : String(entry.step),
      percent(entry.weight),
      formatTime(entry.startedAt),
      entry.heldMs > 0 ? formatDuration(entry.heldMs) : '–',
      OUTCOME[entry.outcome],
      checks.join('<br>') || '–'
    ]
  })
  return [
    '### Traffic',
    weightChart(timeline),
    table(['step', 'new fleet', 'start (UTC)', 'held', 'outcome', 'checks saw'], rows, [true, true])
  ]
}

/** The chart's points: where each step started, and where the last one ended. */
export function chartPoints(timeline: TimelineEntry[]): Array<{ label: string; weight: number }> {
  const points: Array<{ label: string; weight: number }> = []
  const first = timeline[0]
  // A deploy's first step starts from the idle fleet, which took no traffic.
  if (first?.step === 1) points.push({ label: 'before', weight: 0 })
  for (const entry of timeline) points.push({ label: formatTime(entry.startedAt), weight: entry.weight })
  const last = timeline.at(-1)
  if (last && last.heldMs > 0) points.push({ label: formatTime(last.startedAt + last.heldMs), weight: last.weight })
  return points
}

function weightChart(timeline: TimelineEntry[]): string {
  const points = chartPoints(timeline)
  const init = { themeVariables: { xyChart: { plotColorPalette: CHART_COLOUR } } }
  return [
    '```mermaid',
    `%%{init: ${JSON.stringify(init)}}%%`,
    'xychart-beta',
    '  title "Traffic on the new fleet (%)"',
    `  x-axis [${points.map((p) => JSON.stringify(p.label)).join(', ')}]`,
    '  y-axis "% of traffic" 0 --> 100',
    `  line [${points.map((p) => round(p.weight)).join(', ')}]`,
    '```'
  ].join('\n')
}

// --- command results --------------------------------------------------------------------------

function isFailed(result: InstanceCommandResult): boolean {
  return result.status !== 'Success'
}

/** Failed instances first, each group in the order reported. */
function orderCommandResults(commands: CommandReport): InstanceCommandResult[] {
  return [...commands.instances.filter(isFailed), ...commands.instances.filter((r) => !isFailed(r))]
}

const COMMAND_IDS_SHOWN = 3

/** Up to this many results are one table in view; beyond it the successes are folded away. */
const INLINE_RESULT_ROWS = 20

function commandBlocks(commands: CommandReport, ordered: InstanceCommandResult[], detail: Detail): string[] {
  const others = commands.total - commands.succeeded - commands.failed
  const counts = [
    `**${count(commands.total, 'instance')}:** ${commands.succeeded} succeeded`,
    `${commands.failed} failed`,
    others > 0 ? `${others} other` : undefined
  ]
    .filter(Boolean)
    .join(', ')
  const ids = commands.commandIds.slice(0, COMMAND_IDS_SHOWN).map((id) => escapeMarkdown(id))
  if (commands.commandIds.length > COMMAND_IDS_SHOWN) ids.push(`and ${commands.commandIds.length - COMMAND_IDS_SHOWN} more`)
  const facts = [
    counts,
    escapeMarkdown(commands.documentName),
    link('SSM command', commands.consoleUrl),
    link('log group', commands.logGroupUrl)
  ].filter((fact): fact is string => fact !== undefined)
  const blocks = ['### Commands', facts.join(' · ')]
  if (ids.length) blocks.push(`Command ${ids.length > 1 ? 'IDs' : 'ID'}: ${ids.join(', ')}`)
  if (ordered.length === 0) return blocks

  const shown = ordered.slice(0, detail.rows)
  const resultTable = (results: InstanceCommandResult[]) =>
    table(
      ['instance', 'status', 'exit', 'took'],
      results.map((r) => [
        escapeCell(r.instanceId),
        formatStatus(r),
        r.exitCode === undefined ? '–' : String(r.exitCode),
        r.durationMs === undefined ? '–' : formatDuration(r.durationMs)
      ]),
      [false, false, true, true]
    )
  const failedShown = shown.filter(isFailed)
  const succeededShown = shown.filter((r) => !isFailed(r))
  if (shown.length <= INLINE_RESULT_ROWS || succeededShown.length === 0) {
    blocks.push(resultTable(shown))
  } else {
    // A long list of successes would push everything below it out of sight; the failures
    // stay in view and the successes fold away.
    if (failedShown.length) blocks.push(resultTable(failedShown))
    blocks.push(
      [
        `<details><summary>${count(succeededShown.length, 'instance')} that succeeded</summary>`,
        '',
        resultTable(succeededShown),
        '',
        '</details>'
      ].join('\n')
    )
  }
  const leftOut = ordered.length - shown.length
  if (leftOut > 0) {
    const failedLeftOut = ordered.slice(detail.rows).filter(isFailed).length
    blocks.push(
      `${leftOut.toLocaleString('en-US')} of ${ordered.length.toLocaleString('en-US')} instances not listed` +
        `${failedLeftOut ? ` (${failedLeftOut.toLocaleString('en-US')} of them failed)` : ', all of them succeeded'}` +
        `; failed instances are listed first. ${seeAlso(commands)}`
    )
  }
  blocks.push(...tailBlocks(commands, ordered, detail))
  return blocks
}

function formatStatus(result: InstanceCommandResult): string {
  const status = escapeCell(result.status, 40)
  const details = result.statusDetails && result.statusDetails !== result.status ? escapeCell(result.statusDetails, 60) : ''
  const text = details ? `${status} (${details})` : status
  return isFailed(result) ? `**${text}**` : text
}

function tailBlocks(commands: CommandReport, ordered: InstanceCommandResult[], detail: Detail): string[] {
  const small = ordered.length <= SMALL_FLEET
  const withOutput = ordered.filter((r) => (isFailed(r) || small) && r.outputTail && r.outputTail.trim())
  if (withOutput.length === 0) return []
  const shown = withOutput.slice(0, detail.tails)
  const blocks = [small ? '#### Output, last lines' : '#### Output of failed instances, last lines']
  for (const result of shown) {
    const { text, cut } = lastLines(result.outputTail ?? '', detail.tailLines, detail.tailBytes)
    const exit = result.exitCode === undefined ? '' : `, exit ${result.exitCode}`
    blocks.push(
      [
        `<details><summary>${escapeMarkdown(result.instanceId)}: ${escapeMarkdown(result.status)}${exit}</summary>`,
        '',
        // `<pre>` at the start of a line opens an HTML block that ends only at `</pre>`, which
        // escaped text cannot contain, so blank lines in the output cannot end it early.
        `<pre>\n${cut ? '… earlier output cut\n' : ''}${escapeHtml(text)}\n</pre>`,
        '',
        '</details>'
      ].join('\n')
    )
  }
  const notShown = withOutput.length - shown.length
  if (notShown > 0) blocks.push(`Output of ${notShown.toLocaleString('en-US')} more instances is not shown here. ${seeAlso(commands)}`)
  return blocks
}

function seeAlso(commands: CommandReport): string {
  const links = [link('SSM command', commands.consoleUrl), link('log group', commands.logGroupUrl)].filter(Boolean)
  return links.length ? `See the ${links.join(' and the ')}.` : 'See the step log.'
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

// --- instance health --------------------------------------------------------------------------

function isHealthy(instance: InstanceHealth): boolean {
  return instance.state === 'healthy'
}

function healthBlocks(fleets: FleetReport[], detail: Detail): string[] {
  const withInstances = fleets.filter((f) => f.instances.length > 0)
  if (withInstances.length === 0) return []
  const blocks = ['### Instance health']
  for (const fleet of withInstances) {
    const ordered = [...fleet.instances.filter((i) => !isHealthy(i)), ...fleet.instances.filter(isHealthy)]
    const shown = ordered.slice(0, detail.rows)
    const rows = shown.map((i) => [
      escapeCell(i.id),
      isHealthy(i) ? escapeCell(i.state) : `**${escapeCell(i.state)}**`,
      escapeCell([i.reason, i.description].filter(Boolean).join(': ')) || '–'
    ])
    const leftOut = ordered.length - shown.length
    const parts = [
      `<details><summary>${escapeMarkdown(fleet.name)}: ${fleet.instances.filter(isHealthy).length}/${fleet.instances.length} healthy</summary>`,
      '',
      table(['instance', 'state', 'reason'], rows)
    ]
    if (leftOut > 0) parts.push('', `${leftOut.toLocaleString('en-US')} more instances left out, unhealthy ones listed first.`)
    parts.push('', '</details>')
    blocks.push(parts.join('\n'))
  }
  return blocks
}

// --- last resort ------------------------------------------------------------------------------

/**
 * Keeps whole blocks in order while they fit (a table is cut between rows), then a note.
 * Blocks are complete markdown units, so the summary stays well-formed where it stops.
 */
function fitBlocks(blocks: string[], maxBytes: number, report: RunReport): string[] {
  const links = report.commands ? ` ${seeAlso(report.commands)}` : ''
  const note = `**Summary cut here** to stay under ${Math.floor(maxBytes / 1024)} KiB.${links}`
  let budget = maxBytes - bytes(note) - SEPARATOR_BYTES - 1
  const kept: string[] = []
  for (const block of blocks) {
    const size = bytes(block) + SEPARATOR_BYTES
    if (size <= budget) {
      kept.push(block)
      budget -= size
      continue
    }
    if (block.startsWith('|')) {
      const lines = block.split('\n')
      let used = bytes(lines[0]) + bytes(lines[1]) + 2 + SEPARATOR_BYTES
      let n = 2
      while (n < lines.length && used + bytes(lines[n]) + 1 <= budget) used += bytes(lines[n++]) + 1
      if (n > 2) kept.push(lines.slice(0, n).join('\n'))
    }
    break
  }
  kept.push(note)
  return kept
}

// --- small formatting helpers -----------------------------------------------------------------

/** A markdown table; cells must already be escaped. */
function table(header: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  const rule = `|${header.map((_, i) => (rightAligned[i] ? '---:' : '---')).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

/** `a → b`, or just `a` when it did not change; each side escaped. */
function change(before: string | undefined, after: string | undefined): string {
  if (before === undefined && after === undefined) return '–'
  if (before === after) return escapeCell(before ?? '')
  return `${before === undefined ? '–' : escapeCell(before)} → ${after === undefined ? '–' : escapeCell(after)}`
}

/** A commit SHA as GitHub shows it; any other version as given. */
function shortVersion(version: string): string
function shortVersion(version: string | undefined): string | undefined
function shortVersion(version: string | undefined): string | undefined {
  return version !== undefined && /^[0-9a-f]{40}$/i.test(version) ? version.slice(0, 7) : version
}

function percent(weight: number): string {
  return `${round(weight)}%`
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19)
}

function formatDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** A markdown link, only for an https URL; characters that could end the link are encoded. */
function link(label: string, url: string | undefined): string | undefined {
  if (!url || !/^https:\/\/[^\s]+$/.test(url)) return undefined
  const safe = url.replace(/[()<>[\]"'`\\|]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
  return `[${label}](${safe})`
}

// ---------------------------------------------------------------------------------------------
// Terminal
// ---------------------------------------------------------------------------------------------

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
  const rightAligned = (lines[1] ?? '').split('|').slice(1, -1).map((c) => c.trim().endsWith(':'))
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
export function renderTerminal(markdown: string): string {
  const lines = markdown.split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line.startsWith('```mermaid')) {
      while (i + 1 < lines.length && !lines[++i].startsWith('```'));
      out.push('(chart of traffic on the new fleet over time: see the table below)')
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
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`
}
