import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import { type Discovery, discover } from './discover.js'
import { describeFleetsAndRoutes } from './lifecycle.js'
import { newReport } from '../report/report.js'
import { rollbackSafety } from '../plan/contract-guard.js'
import { stagedCanary } from '../plan/staged-canary.js'
import { PreviewRoute } from '../traffic/preview-route.js'

/** `operation: status`: reads and reports, changes nothing. */
export async function status(config: Config, ctx: RunContext): Promise<RunReport> {
  const report = newReport(config, ctx.clock.now(), ctx.run.url)
  const found = await discover(config, ctx.clients.elb, ctx.routesAtStart)
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

/** Where traffic is, in one line: "web-blue is live (v41); web-green is idle (v40)". */
export function trafficHeadline(found: Discovery): string {
  const { traffic, fleets } = found
  const version = (arn: string) => (fleets[arn].record.version ? ` (version ${fleets[arn].record.version})` : '')
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
