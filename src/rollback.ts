import { targetGroupName } from './arn.js'
import type { Config } from './config.js'
import type { RunContext } from './context.js'
import { finish, record } from './run-outcome.js'
import { lockTtlMs } from './take-the-pair.js'
import type { Progress } from './progress.js'
import { discover, type Discovery } from './discover.js'
import { DeployError } from './errors.js'
import { acquireLock, lockHolderArn, releaseLock } from './lock.js'
import type { FleetRecord } from './records.js'
import type { RunReport } from './report.js'
import { describeFleetsAndRoutes, newReport } from './report-builder.js'
import { describeTargets } from './target-health.js'
import { restoreTraffic } from './traffic-steps.js'
import { describeWeights } from './traffic-state.js'

/**
 * `operation: rollback`: all traffic back on the previous fleet in one verified write. From a
 * paused or stuck canary that is the stable fleet; after a finished deploy it is the fleet that
 * was live before, once its targets are checked healthy.
 */
export async function rollback(config: Config, ctx: RunContext): Promise<RunReport> {
  const report = newReport(config, ctx.clock.now(), ctx.run.url)
  const found = await discover(config, ctx.clients.elb, ctx.routesAtStart)
  const { target, from, why } = chooseRollbackTarget(found)
  const restore = Object.fromEntries(found.routes.map((r) => [r.arn, { [target]: 100, [from]: 0 }]))
  Object.assign(report.outputs, { live: from, idle: target })
  ctx.log.info(`Rollback: ${why}; all traffic to ${targetGroupName(target)}`)
  if (config.dryRun) {
    describeFleetsAndRoutes(report, found, { routes: found.routes })
    return finish(report, ctx, 'unchanged', `Dry run: would put all traffic on ${targetGroupName(target)} (${why}); nothing was changed`)
  }
  const lockArn = lockHolderArn(found.traffic.pair)
  // Forced: a rollback is how a person stops the bleeding, also when the run holding the lock died.
  await acquireLock(ctx.clients.elb, lockArn, ctx.run, lockTtlMs(config), ctx.clock, ctx.log, { force: true, known: found.lock ?? null })
  const progress: Progress = {
    region: config.region,
    runId: ctx.run.id,
    pair: [...found.traffic.pair],
    listenerArns: config.listenerArns,
    ruleArns: config.ruleArns,
    trafficMoved: false,
    commandIds: [],
    lockArn,
    finished: false
  }
  ctx.saveProgress(progress)
  try {
    const startedAt = ctx.clock.now()
    const routes = await restoreTraffic(ctx, found.routes, { pair: found.traffic.pair, restore }, report)
    report.timeline.push({ step: 1, weight: 0, startedAt, heldMs: 0, outcome: 'restored', checks: [`all traffic on ${targetGroupName(target)}, read back`] })
    const records: Record<string, FleetRecord> = {
      [target]: { ...found.fleets[target].record, role: 'live' },
      // A canary that was rolled back is not a fleet to return to; a finished deploy is.
      [from]: { ...found.fleets[from].record, role: found.traffic.live === from && !isFailed(found.fleets[from].record.role) ? 'previous' : 'failed' }
    }
    await record(ctx, target, records[target])
    await record(ctx, from, records[from])
    Object.assign(report.outputs, { live: target, idle: from, previous: from })
    describeFleetsAndRoutes(report, found, { routes, records })
    const version = records[target].version ? ` (${records[target].version})` : ''
    return finish(report, ctx, 'rolled-back', `Rolled back: all traffic on ${targetGroupName(target)}${version}, ${why}`)
  } finally {
    await releaseLock(ctx.clients.elb, lockArn, ctx.run).catch((e) => ctx.log.warning(`Could not release the deploy lock: ${(e as Error).message}`))
    ctx.saveProgress({ ...progress, finished: true })
  }
}

function isFailed(role: string | undefined): boolean {
  return role === 'failed' || role === 'deploying'
}

/** Which fleet traffic goes back to, and from which; refuses when that would not be safe. */
export function chooseRollbackTarget(found: Discovery): { target: string; from: string; why: string } {
  const { traffic, fleets } = found
  const other = (arn: string) => traffic.pair.find((a) => a !== arn) as string
  if (!traffic.percent || traffic.mixed) {
    // Mid-canary or split routes: the stable fleet is the one recorded live, or failing that the one not in canary.
    const stable = traffic.pair.find((arn) => fleets[arn].record.role === 'live') ?? traffic.pair.find((arn) => fleets[other(arn)].record.role === 'canary')
    if (!stable) {
      throw new DeployError(
        `Traffic is split (${traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}) and no record says which fleet is stable; set the weights by hand or deploy with blue-target-group-arn and green-target-group-arn`
      )
    }
    return { target: stable, from: other(stable), why: `canary of ${targetGroupName(other(stable))} undone` }
  }
  const previous = traffic.idle as string
  const record = fleets[previous].record
  if (record.role === 'failed' || record.role === 'deploying') {
    throw new DeployError(
      `${targetGroupName(previous)} holds a failed deploy${record.version ? ` of ${record.version}` : ''}, not the previous release; deploy the version you want instead`
    )
  }
  const instances = fleets[previous].instances
  const unhealthy = instances.filter((t) => t.state !== 'healthy')
  if (instances.length === 0 || unhealthy.length > 0) {
    throw new DeployError(
      `The previous fleet ${targetGroupName(previous)} is not healthy (${instances.length === 0 ? 'no registered targets' : describeTargets(unhealthy)}); traffic stays on ${targetGroupName(other(previous))}: fix or redeploy the previous version first`
    )
  }
  return { target: previous, from: other(previous), why: `back to the previous release` }
}
