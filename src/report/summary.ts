import type { InstanceHealth } from '../aws/elbv2.js'
import { routeLabel, targetGroupName } from '../config/arn.js'
import { formatDuration } from '../config/duration.js'
import type { CommandReport } from '../fleet/deploy-commands.js'
import type { InstanceCommandResult } from '../fleet/run-commands.js'
import type { PlanReport } from '../plan/deploy-plan.js'
import type { Weights } from '../plan/forward-action.js'
import { analysisBlocks } from './analysis-summary.js'
import { escapeCell, escapeHtml, escapeMarkdown } from './escape.js'
import { hookBlocks, hookPlanFacts, previewBlocks, rollbackSafetyBlocks } from './hooks-summary.js'
import {
  bytes,
  capitalise,
  change,
  count,
  formatDate,
  formatTime,
  lastLines,
  link,
  percent,
  shortVersion,
  table
} from './markdown.js'
import { autoScalingBlocks, fleetGroupsCell } from './auto-scaling-summary.js'
import type { FleetReport, Result, RunReport, TimelineEntry } from './report.js'
import { weightChart } from './traffic-chart.js'

/**
 * The runner rejects a step summary over 1 MiB; half of that leaves room for the notes the
 * renderer adds when it cuts, and for UTF-8 surprises.
 */
export const DEFAULT_MAX_BYTES = 512 * 1024

/** Fleets up to this size also show the output of instances that succeeded. */
const SMALL_FLEET = 10

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
    ...autoScalingBlocks(report),
    ...routeBlocks(report),
    ...(report.plan ? planBlocks(report.plan, report) : []),
    ...timelineBlocks(report.timeline),
    ...analysisBlocks(report.analysis ?? []),
    ...previewBlocks(report),
    ...hookBlocks(report),
    ...rollbackSafetyBlocks(report)
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
  // The Auto Scaling column appears only when a fleet is a group: plain fleets read as they always did.
  const groups = fleets.some((fleet) => fleet.autoScaling)
  const rows = fleets.map((fleet) => [
    `**${escapeCell(fleet.name)}**`,
    change(fleet.roleBefore, fleet.roleAfter),
    change(shortVersion(fleet.versionBefore), shortVersion(fleet.versionAfter)),
    change(percent(fleet.weightBefore), percent(fleet.weightAfter)),
    `${fleet.instances.filter(isHealthy).length}/${fleet.instances.length}`,
    ...(groups ? [fleetGroupsCell(fleet)] : [])
  ])
  const headers = ['fleet', 'role', 'version', 'traffic', 'healthy', ...(groups ? ['Auto Scaling group'] : [])]
  return ['### Fleets', table(headers, rows, [false, false, false, true, true, false])]
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
  for (const line of plan.prepare ?? []) facts.push(`- **First:** ${escapeMarkdown(line)}`)
  const last = plan.steps.at(-1)
  if (plan.pauses) facts.push(`- **Pauses** at ${percent(last?.weight ?? 0)} for a later \`promote\``)
  facts.push(...hookPlanFacts(plan))
  const restore = Object.entries(plan.restore).map(([arn, weights]) => {
    const label = report.routes.find((r) => r.arn === arn)?.label ?? routeLabel(arn)
    return `${escapeMarkdown(label)}: ${formatWeights(
      weights,
      report.fleets.map((f) => f.targetGroupArn)
    )}`
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
  if (commands.commandIds.length > COMMAND_IDS_SHOWN)
    ids.push(`and ${commands.commandIds.length - COMMAND_IDS_SHOWN} more`)
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
  const details =
    result.statusDetails && result.statusDetails !== result.status ? escapeCell(result.statusDetails, 60) : ''
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
  if (notShown > 0)
    blocks.push(`Output of ${notShown.toLocaleString('en-US')} more instances is not shown here. ${seeAlso(commands)}`)
  return blocks
}

function seeAlso(commands: CommandReport): string {
  const links = [link('SSM command', commands.consoleUrl), link('log group', commands.logGroupUrl)].filter(Boolean)
  return links.length ? `See the ${links.join(' and the ')}.` : 'See the step log.'
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
    if (leftOut > 0)
      parts.push('', `${leftOut.toLocaleString('en-US')} more instances left out, unhealthy ones listed first.`)
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
