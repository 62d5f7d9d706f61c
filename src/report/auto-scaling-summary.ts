// The job summary's Auto Scaling parts: the groups behind each fleet (a column of the fleets
// table, present only when a fleet is a group) and what the run did to the group it worked on.
import { formatDuration } from '../config/duration.js'
import { escapeCell, escapeMarkdown } from './escape.js'
import type { FleetReport, RunReport } from './report.js'

/** `web-green-asg 3/3 (min 0, max 6)`, retired or suspended processes said after it. */
export function fleetGroupsCell(fleet: FleetReport): string {
  const report = fleet.autoScaling
  if (!report) return '–'
  const groups = report.groups.map((g) => {
    const suspended = g.suspended.length > 0 ? `; suspended: ${g.suspended.join(', ')}` : ''
    return `${escapeCell(g.name)} ${g.inService}/${g.desired} (min ${g.min}, max ${g.max}${escapeCell(suspended)})`
  })
  const retired = report.retired
    ? [
        `**retired** ${escapeCell(report.retired.at.slice(0, 16).replace('T', ' '))} UTC, was ${report.retired.desiredCapacity}`
      ]
    : []
  return [...groups, ...retired].join('<br>')
}

/** What the run did to the fleet's Auto Scaling group, in the order it did it. */
export function autoScalingBlocks(report: RunReport): string[] {
  const a = report.autoScaling
  if (!a) return []
  const group = escapeMarkdown(a.group)
  const facts: string[] = []
  if (a.scaled) {
    const ready = a.scaled.readyAfterMs !== undefined ? `, ready after ${formatDuration(a.scaled.readyAfterMs)}` : ''
    facts.push(
      `- **Scaled** ${group} from ${a.scaled.from} to ${a.scaled.to} instances for ${escapeMarkdown(a.scaled.why)}${ready}`
    )
  }
  if (a.retiredFrom) {
    facts.push(
      `- **Retired:** ${group} scaled from ${a.retiredFrom.desiredCapacity} to 0 instances; a rollback brings it back`
    )
  }
  if (a.suspended.length > 0) {
    const resumed =
      a.resumed === true
        ? 'resumed at the end'
        : a.resumed === false
          ? '**not resumed: see the warnings**'
          : 'still suspended'
    facts.push(`- **Held still:** ${a.suspended.join(', ')} suspended on ${group} from the commands on; ${resumed}`)
  }
  if (a.leftAlone.length > 0)
    facts.push(`- **Left alone:** ${a.leftAlone.map((p) => escapeMarkdown(p)).join(', ')} (suspended before the run)`)
  if (a.versionParameter)
    facts.push(`- **Version for new instances:** recorded in Parameter Store as ${escapeMarkdown(a.versionParameter)}`)
  return facts.length > 0 ? ['### Auto Scaling', facts.join('\n')] : []
}
