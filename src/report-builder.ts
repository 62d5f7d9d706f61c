import { routeLabel } from './arn.js'
import type { Config } from './config.js'
import type { Discovery, FleetView } from './discover.js'
import { pairWeights, type Pair, type Route } from './forward-action.js'
import type { FleetRecord } from './records.js'
import type { FleetReport, RouteReport, RunReport } from './report.js'
import { toPercent } from './traffic-state.js'

export function newReport(config: Pick<Config, 'operation' | 'dryRun' | 'version'>, startedAt: number, runUrl?: string): RunReport {
  return {
    operation: config.operation,
    dryRun: config.dryRun,
    result: 'unchanged',
    headline: '',
    startedAt,
    finishedAt: startedAt,
    version: config.operation === 'deploy' ? config.version : undefined,
    runUrl,
    fleets: [],
    routes: [],
    timeline: [],
    warnings: [],
    outputs: {}
  }
}

/** Percent of traffic per group, averaged over routes so that a split-brain shows as such. */
export function averagePercent(routes: Route[], pair: Pair): Record<string, number> {
  const percents = routes.map((r) => toPercent(pairWeights(r, pair)))
  return Object.fromEntries(pair.map((arn) => [arn, Math.round(percents.reduce((sum, p) => sum + p[arn], 0) / percents.length)]))
}

/** Fills the fleets and routes tables from the state before and after the run. */
export function describeFleetsAndRoutes(
  report: RunReport,
  before: Discovery,
  after: { routes: Route[]; records?: Record<string, FleetRecord>; fleets?: Record<string, FleetView> }
): void {
  const pair = before.traffic.pair
  const weightBefore = averagePercent(before.routes, pair)
  const weightAfter = averagePercent(after.routes, pair)
  report.fleets = pair.map((arn): FleetReport => {
    const fleet = before.fleets[arn]
    const recordAfter = after.records?.[arn] ?? fleet.record
    return {
      targetGroupArn: arn,
      name: fleet.name,
      roleBefore: fleet.record.role ?? roleFromWeight(weightBefore[arn]),
      roleAfter: recordAfter.role ?? roleFromWeight(weightAfter[arn]),
      versionBefore: fleet.record.version,
      versionAfter: recordAfter.version,
      deployedAt: recordAfter.deployedAt,
      deployedBy: recordAfter.deployedBy,
      weightBefore: weightBefore[arn],
      weightAfter: weightAfter[arn],
      instances: (after.fleets ?? before.fleets)[arn].instances
    }
  })
  report.routes = before.routes.map((route): RouteReport => {
    const afterRoute = after.routes.find((r) => r.arn === route.arn) ?? route
    return { arn: route.arn, label: routeLabel(route.arn), before: toPercent(pairWeights(route, pair)), after: toPercent(pairWeights(afterRoute, pair)) }
  })
  report.outputs.weights = toPercent(pairWeights(after.routes[0], pair))
}

function roleFromWeight(percent: number): string {
  return percent === 100 ? 'live' : percent === 0 ? 'idle' : 'canary'
}
