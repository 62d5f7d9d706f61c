import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { firing, readAlarms } from './alarms.js'
import { targetGroupName } from './arn.js'
import type { Clock } from './clock.js'
import type { Stickiness } from './config.js'
import { DeployError } from './errors.js'
import { describeRoute, pairWeights, type Pair, type Route, type Weights, withWeights } from './forward-action.js'
import { readRoutes, targetHealth, writeRouteActions } from './load-balancer.js'
import type { Log } from './log.js'
import { describeTargets } from './target-health.js'
import { describeWeights } from './traffic-state.js'

const WRITE_ATTEMPTS = 3

/**
 * Sets the pair's weights on every route at once and reads them back. Each write starts from the
 * route as just read, so a change someone made to the rest of the listener is not undone. A
 * read-back that differs is written again; after that it is an error, since traffic is not where
 * the deploy believes it is.
 */
export async function setWeights(
  elb: ElasticLoadBalancingV2Client,
  routes: Route[],
  pair: Pair,
  target: Record<string, Weights>,
  stickiness: Stickiness,
  log: Log
): Promise<Route[]> {
  let current = routes
  for (let attempt = 1; ; attempt++) {
    const pending = current.filter((route) => !sameWeights(pairWeights(route, pair), target[route.arn]))
    await Promise.all(pending.map((route) => writeRouteActions(elb, route, withWeights(route, target[route.arn], stickiness))))
    current = await readRoutes(
      elb,
      routes.filter((r) => r.kind === 'listener').map((r) => r.arn),
      routes.filter((r) => r.kind === 'rule').map((r) => r.arn)
    )
    const wrong = current.filter((route) => !sameWeights(pairWeights(route, pair), target[route.arn]))
    if (wrong.length === 0) return current
    const detail = wrong.map((r) => `${describeRoute(r)} reads ${describeWeights(pairWeights(r, pair))}`).join('; ')
    if (attempt >= WRITE_ATTEMPTS) {
      throw new DeployError(`Weights did not stick after ${WRITE_ATTEMPTS} writes: ${detail}; something else is changing the listener, stop it and run rollback`)
    }
    log.warning(`Read-back differs from what was written (${detail}); writing again`)
  }
}

function sameWeights(actual: Weights, expected: Weights): boolean {
  return Object.keys(expected).every((arn) => actual[arn] === expected[arn])
}

export interface HoldOptions {
  holdMs: number
  newFleet: string
  instanceIds: string[]
  alarms: string[]
  clock: Clock
  log: Log
  signal?: AbortSignal
  /** The operation's deadline (epoch ms); passing it is a failure like any other check. */
  deadline: number
  checkIntervalMs?: number
}

export interface HoldFindings {
  /** What the checks saw, one line each, for the timeline. */
  checks: string[]
  /** Set when a check failed: what, in the user's words. */
  failure?: string
}

/**
 * Holds a traffic step while watching what tells a bad release from a good one: the alarms and the
 * new fleet's target health. Returns at the first failed check, because every second on a bad
 * version is a second of users' requests failing.
 */
export async function holdStep(elb: ElasticLoadBalancingV2Client, cloudwatch: CloudWatchClient, options: HoldOptions): Promise<HoldFindings> {
  const { clock } = options
  const started = clock.now()
  const interval = options.checkIntervalMs ?? Math.min(5000, Math.max(500, options.holdMs / 4))
  let rounds = 0
  let lastHealthy = ''
  for (;;) {
    rounds++
    const [alarms, health] = await Promise.all([
      readAlarms(cloudwatch, options.alarms),
      targetHealth(elb, options.newFleet)
    ])
    const fired = firing(alarms)
    if (fired.length > 0) {
      const reason = fired[0].reason?.replace(/[.\s]+$/, '')
      const what = `alarm ${fired.map((a) => a.name).join(', ')} in ALARM${reason ? `: ${reason}` : ''}`
      return { checks: [what], failure: what }
    }
    const targets = health.filter((t) => options.instanceIds.includes(t.id))
    const bad = targets.filter((t) => t.state !== 'healthy')
    if (bad.length > 0 || targets.length < options.instanceIds.length) {
      const what = bad.length > 0 ? `${describeTargets(bad)} in ${targetGroupName(options.newFleet)}` : `targets left ${targetGroupName(options.newFleet)}`
      return { checks: [what], failure: what }
    }
    lastHealthy = `${targets.length}/${options.instanceIds.length} targets healthy`
    const now = clock.now()
    if (now >= options.deadline) {
      const what = 'timeout passed'
      return { checks: [what], failure: what }
    }
    if (now - started >= options.holdMs) break
    await clock.sleep(Math.min(interval, options.holdMs - (now - started), Math.max(0, options.deadline - now)), options.signal)
  }
  const alarmLine = options.alarms.length > 0 ? `alarms ${options.alarms.join(', ')} OK` : 'no alarms watched'
  return { checks: [alarmLine, lastHealthy, `${rounds} check${rounds === 1 ? '' : 's'}`] }
}
