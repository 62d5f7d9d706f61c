// The summary's parts for the run-once hooks, the preview route and the rollback target: where
// each hook ran and what it printed, the preview's rules with a curl line to try, and whether a
// rollback would still be safe. Everything from AWS or an instance is escaped here.
import { routeLabel, targetGroupName } from '../config/arn.js'
import { formatDuration } from '../config/duration.js'
import type { HookRun } from '../fleet/run-once.js'
import type { PlanReport } from '../plan/deploy-plan.js'
import { HOOK_INPUT } from '../plan/run-once-plan.js'
import { escapeCell, escapeHtml, escapeMarkdown } from './escape.js'
import { lastLines, link, table } from './markdown.js'
import type { RunReport } from './report.js'

const TAIL_LINES = 40
const TAIL_BYTES = 4096

/** The plan's lines about the hooks, as list items. */
export function hookPlanFacts(plan: PlanReport): string[] {
  return (plan.hooks ?? []).map((line) => `- **Hook:** ${escapeMarkdown(line)}`)
}

/** The preview: its header, each rule, and a request that reaches the new fleet through it. */
export function previewBlocks(report: RunReport): string[] {
  const preview = report.preview
  if (!preview || preview.rules.length === 0) return []
  const state = {
    planned: report.dryRun ? 'would open' : 'planned',
    open: report.dryRun
      ? 'open; this run would remove it'
      : report.result === 'paused' || report.operation === 'status'
        ? 'open until a promote or rollback ends the canary'
        : 'open',
    removed: 'removed when the run ended',
    left: '**could not be removed**: see the warnings'
  }[preview.state]
  const header = `\`${escapeCode(preview.header)}: ${escapeCode(preview.value)}\``
  const blocks = [
    '### Preview',
    `Requests carrying ${header} reach **${escapeMarkdown(targetGroupName(preview.fleet))}** only, through the load balancer, whatever the weights; ${state}.`,
    table(
      ['listener', 'priority', 'rule'],
      preview.rules.map((rule) => [
        escapeCell(routeLabel(rule.listenerArn)),
        String(rule.priority),
        rule.ruleArn ? escapeCell(rule.ruleArn.split('/').slice(-1)[0]) : '–'
      ]),
      [false, true, false]
    )
  ]
  const curls = [...new Set(preview.rules.flatMap((r) => (r.curl ? [r.curl] : [])))]
  if (curls.length && preview.state !== 'removed') {
    // A fence shows the line as it is; only a line that could break out of it is escaped instead.
    const fenced = curls.every((c) => /^[\x20-\x7e]+$/.test(c) && !c.includes('`'))
    blocks.push(fenced ? ['```sh', ...curls, '```'].join('\n') : curls.map((c) => escapeMarkdown(c)).join('<br>'))
    if (curls.some((c) => c.includes('https://'))) {
      blocks.push("For an HTTPS listener, use the domain on its certificate instead of the load balancer's DNS name.")
    }
  }
  return blocks
}

/** Each hook that ran: where, how it ended, and the end of its output. */
export function hookBlocks(report: RunReport): string[] {
  const hooks = report.hooks ?? []
  if (hooks.length === 0) return []
  const rows = hooks.map((h) => [
    `\`${HOOK_INPUT[h.hook]}\``,
    escapeCell(h.instanceId),
    h.status === 'Success' ? escapeCell(h.status) : `**${escapeCell(h.status)}**`,
    h.exitCode === undefined ? '–' : String(h.exitCode),
    h.durationMs === undefined ? '–' : formatDuration(h.durationMs),
    link('SSM command', h.consoleUrl) ?? (h.commandId ? escapeCell(h.commandId) : '–')
  ])
  const blocks = [
    '### Run-once hooks',
    table(['hook', 'ran on', 'status', 'exit', 'took', 'command'], rows, [false, false, false, true, true, false])
  ]
  for (const hook of hooks) blocks.push(...tailBlock(hook))
  return blocks
}

/** Whether the previous fleet is still somewhere to go back to. */
export function rollbackSafetyBlocks(report: RunReport): string[] {
  const safety = report.rollbackSafety
  if (!safety) return []
  return ['### Rollback', `${safety.safe ? '✅' : '⛔'} ${escapeMarkdown(safety.line)}`]
}

function tailBlock(hook: HookRun): string[] {
  if (!hook.outputTail?.trim()) return []
  const { text, cut } = lastLines(hook.outputTail, TAIL_LINES, TAIL_BYTES)
  const exit = hook.exitCode === undefined ? '' : `, exit ${hook.exitCode}`
  return [
    [
      `<details><summary>${HOOK_INPUT[hook.hook]} on ${escapeMarkdown(hook.instanceId)}: ${escapeMarkdown(hook.status)}${exit}</summary>`,
      '',
      `<pre>\n${cut ? '… earlier output cut\n' : ''}${escapeHtml(text)}\n</pre>`,
      '',
      '</details>'
    ].join('\n')
  ]
}

/** Text inside a code span: backticks and line breaks could end it early. */
function escapeCode(text: string): string {
  return text.replace(/[`\r\n]/g, ' ')
}
