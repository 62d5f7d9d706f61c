import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import { type Discovery, discover } from './discover.js'
import { describeFleetsAndRoutes } from './lifecycle.js'
import { newReport } from '../report/report.js'
import { detectOrAssumePlain, groupsReport } from '../fleet/auto-scaling.js'
import { isAutoScalingFleet } from '../plan/auto-scaling.js'
import { readFleetParameters } from '../records/fleet-parameters.js'
import { rollbackSafety } from '../plan/contract-guard.js'
import { stagedCanary } from '../plan/staged-canary.js'
import { PreviewRoute } from '../traffic/preview-route.js'

/** `operation: status`: reads and reports, changes nothing. */
export async function status(config: Config, ctx: RunContext): Promise<RunReport> {
  const report = newReport(config, ctx.clock.now(), ctx.run.url)
  const found = await discover(config, ctx.clients.elb, ctx.routesAtStart)
  await lookUpGroups(config, ctx, found)
  describeFleetsAndRoutes(report, found, { routes: found.routes })
  report.headline = trafficHeadline(found)
  report.outputs.live = found.traffic.live
  report.outputs.idle = found.traffic.idle
  report.outputs.previous = found.traffic.pair.find((arn) => found.fleets[arn].record.role === 'previous')
  report.rollbackSafety = rollbackSafety(found)
  const preview = await PreviewRoute.find(
    ctx,
    { routes: found.routes, pair: found.traffic.pair },
    { withAddresses: true, warnings: report.warnings }
  )
  if (preview) report.preview = preview.report
  if (found.lock && found.lock.expiresAt > ctx.clock.now()) {
    report.warnings.push(
      `A deploy holds the lock until ${new Date(found.lock.expiresAt).toISOString()}: ${found.lock.holder}`
    )
  }
  for (const line of [report.headline, report.rollbackSafety.line, ...report.warnings]) ctx.log.info(line)
  for (const rule of report.preview?.rules ?? []) if (rule.curl) ctx.log.info(`Preview open: ${rule.curl}`)
  report.result = 'unchanged'
  report.finishedAt = ctx.clock.now()
  return report
}

/**
 * The Auto Scaling groups behind the fleets, and which fleets are retired. Parameter Store is read
 * only when a fleet is a group, so the status of plain fleets is what it always was.
 */
async function lookUpGroups(config: Config, ctx: RunContext, found: Discovery): Promise<void> {
  const pair = found.traffic.pair
  const fleets = await detectOrAssumePlain(
    ctx.clients.autoScaling,
    pair.map((arn) => ({ targetGroupArn: arn, registeredIds: found.fleets[arn].instances.map((t) => t.id) })),
    ctx.log
  )
  const withGroups = fleets.filter(isAutoScalingFleet)
  if (withGroups.length === 0) return
  const parameters = await readFleetParameters(
    ctx.clients.ssm,
    config.parameterPrefix,
    withGroups.map((f) => f.targetGroupArn)
  )
  for (const fleet of withGroups) {
    const recorded = parameters.get(fleet.targetGroupArn)
    const retired = fleet.groups.every((g) => g.desiredCapacity === 0) ? recorded?.retired : undefined
    found.fleets[fleet.targetGroupArn].autoScaling = groupsReport(fleet, retired)
    for (const g of fleet.groups) {
      const suspended = g.suspendedProcesses.length > 0 ? `; suspended: ${g.suspendedProcesses.join(', ')}` : ''
      const inService = g.instances.filter((i) => i.lifecycleState === 'InService').length
      ctx.log.info(
        `${targetGroupName(fleet.targetGroupArn)}: Auto Scaling group ${g.name}, ${inService}/${g.desiredCapacity} InService (min ${g.minSize}, max ${g.maxSize})${suspended}`
      )
    }
    if (recorded?.version) ctx.log.info(`  version for new instances (Parameter Store): ${recorded.version}`)
  }
}

/** Where traffic is, in one line: "web-blue is live (v41); web-green is idle (v40)". */
export function trafficHeadline(found: Discovery): string {
  const { traffic, fleets } = found
  const retired = (arn: string) => (fleets[arn].autoScaling?.retired ? ', retired' : '')
  const version = (arn: string) =>
    (fleets[arn].record.version ? ` (version ${fleets[arn].record.version})` : '') + retired(arn)
  const staged = stagedCanary(traffic, fleets)
  if (staged && traffic.live) {
    return `${targetGroupName(traffic.live)} is live${version(traffic.live)}; ${targetGroupName(staged)} holds a canary staged at 0%${version(staged)}; run promote or rollback`
  }
  if (traffic.live && traffic.idle) {
    return `${targetGroupName(traffic.live)} is live${version(traffic.live)}; ${targetGroupName(traffic.idle)} is idle${version(traffic.idle)}`
  }
  if (traffic.percent) {
    const canary = traffic.pair.find((arn) => fleets[arn].record.role === 'canary')
    return `Canary in progress: ${describeWeights(traffic.percent)}${canary ? `; ${targetGroupName(canary)} is the new fleet${version(canary)}` : ''}; run promote or rollback`
  }
  return `Routes disagree: ${found.traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}; run rollback to put all traffic back on the stable fleet`
}
