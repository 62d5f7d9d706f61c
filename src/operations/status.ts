import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import { type Discovery, discover } from './discover.js'
import { describeFleetsAndRoutes } from './lifecycle.js'
import { readParameter } from '../aws/parameter-store.js'
import { describeHolder, judgeLock, lockParameterName } from '../records/lock-claim.js'
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
  const lockName = lockParameterName(config.parameterPrefix, found.traffic.pair)
  const lock = judgeLock((await readParameter(ctx.clients.ssm, lockName))?.value, ctx.run.id, ctx.clock.now())
  if (lock.kind === 'held')
    report.warnings.push(`A run holds the deploy lock ${lockName}: ${describeHolder(lock.claim)}`)
  if (lock.kind === 'expired') {
    report.warnings.push(
      `The deploy lock ${lockName} is left by a run that died: ${describeHolder(lock.claim)}; the next run takes it over`
    )
  }
  // Settings a changing run would refuse: status says so, so that the next deploy does not surprise.
  for (const problem of found.problems) report.warnings.push(problem.message)
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
