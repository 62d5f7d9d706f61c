import { targetGroupName } from './arn.js'
import type { Config } from './config.js'
import type { RunContext } from './context.js'
import { finish, recordAfterTraffic } from './run-outcome.js'
import { discover } from './discover.js'
import { DeployError } from './errors.js'
import { holdsLock, releaseLock } from './lock.js'
import { takeThePair } from './take-the-pair.js'
import type { Route } from './forward-action.js'
import { planDeploy } from './plan.js'
import type { Progress } from './progress.js'
import type { FleetRecord } from './records.js'
import type { RunReport } from './report.js'
import { describeFleetsAndRoutes, newReport } from './report-builder.js'
import { holdStep } from './traffic.js'
import { restoreTraffic, runTrafficSteps, type StepsOutcome } from './traffic-steps.js'
import { describeWeights } from './traffic-state.js'

/**
 * `operation: promote`: continues a paused canary through the steps above its weight to 100%.
 * Which fleet is new is read from the records on AWS, so an approved job needs nothing passed
 * from the job that deployed.
 */
export async function promote(config: Config, ctx: RunContext): Promise<RunReport> {
  const report = newReport(config, ctx.clock.now(), ctx.run.url)
  const deadline = report.startedAt + config.timeoutMs
  const found = await discover(config, ctx.clients.elb, ctx.routesAtStart)
  const { traffic, fleets } = found
  if (!traffic.percent) {
    throw new DeployError(`The routes disagree (${traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}); run rollback to put traffic back on the stable fleet`)
  }
  if (!traffic.mixed) {
    describeFleetsAndRoutes(report, found, { routes: found.routes })
    Object.assign(report.outputs, { live: traffic.live, idle: traffic.idle })
    return finish(report, ctx, 'unchanged', `No canary in progress (${describeWeights(traffic.percent)}); nothing to promote`)
  }
  const newFleet = traffic.pair.find((arn) => fleets[arn].record.role === 'canary')
  if (!newFleet) {
    throw new DeployError(`Traffic is split (${describeWeights(traffic.percent)}) but neither fleet is recorded as the canary; run rollback to put all traffic on one fleet`)
  }
  const stableFleet = traffic.pair.find((arn) => arn !== newFleet) as string
  const instanceIds = fleets[newFleet].instances.map((t) => t.id)
  const currentWeight = traffic.percent[newFleet]
  const plan = planDeploy({ config, pair: traffic.pair, newFleet, routes: traffic.routes, instanceIds, currentWeight, endAtFull: true })
  report.plan = plan
  report.version = fleets[newFleet].record.version
  Object.assign(report.outputs, { live: stableFleet, idle: newFleet, instanceIds })
  ctx.log.info(`Promoting ${targetGroupName(newFleet)} from ${currentWeight}%: steps ${plan.steps.map((s) => `${s.weight}%`).join(', ')}`)
  if (config.dryRun) {
    describeFleetsAndRoutes(report, found, { routes: found.routes })
    return finish(report, ctx, 'unchanged', `Dry run: would promote ${targetGroupName(newFleet)} from ${currentWeight}% through ${plan.steps.map((s) => `${s.weight}%`).join(', ')}; nothing was changed`)
  }

  const lockArn = await takeThePair(ctx, config, found, 'promote')
  // A cancelled promote goes back to the paused canary the reviewers approved, not further back:
  // nothing failed, so the canary stays in place for another promote or a rollback.
  const pausedWeights = Object.fromEntries(traffic.routes.map(({ route, weights }) => [route.arn, { ...weights }]))
  // The canary already takes traffic: should this run die, post puts it back on the stable fleet.
  const progress: Progress = {
    region: config.region,
    runId: ctx.run.id,
    pair: [...traffic.pair],
    newFleet,
    stableFleet,
    listenerArns: config.listenerArns,
    ruleArns: config.ruleArns,
    restore: pausedWeights,
    trafficMoved: true,
    commandIds: [],
    lockArn,
    finished: false
  }
  ctx.saveProgress(progress)
  // A canary already failing its checks gets no more traffic: it goes straight back to stable.
  const restoreBadCanary = async (what: string, checks: string[]): Promise<StepsOutcome> => {
    report.timeline.push({ step: 0, weight: currentWeight, startedAt: ctx.clock.now(), heldMs: 0, outcome: 'failed', checks })
    report.failure = { what, at: ctx.clock.now(), step: 0, weight: currentWeight }
    if (!config.autoRollback) return { kind: 'failed', routes: found.routes, restored: false, cancelled: false, message: `${what}; auto-rollback is off` }
    let routes: Route[]
    try {
      routes = await restoreTraffic(ctx, found.routes, { pair: traffic.pair, restore: plan.restore }, report)
    } catch (error) {
      const message = `${what}; restoring the weights FAILED (${(error as Error).message}): traffic may still reach ${targetGroupName(newFleet)}, run rollback now`
      ctx.log.error(message)
      report.warnings.push(message)
      return { kind: 'failed', routes: found.routes, restored: false, cancelled: false, message }
    }
    progress.trafficMoved = false
    report.timeline.push({ step: 0, weight: 0, startedAt: ctx.clock.now(), heldMs: 0, outcome: 'restored', checks: ['stable weights written and read back'] })
    return { kind: 'failed', routes, restored: true, cancelled: false, message: what }
  }
  const records: Record<string, FleetRecord> = { [newFleet]: fleets[newFleet].record, [stableFleet]: fleets[stableFleet].record }
  let unresolved = false
  try {
    // Look at the canary where it stands before giving it more traffic.
    const before = await holdStep(ctx.clients.elb, ctx.clients.cloudwatch, {
      holdMs: 0, newFleet, instanceIds, alarms: config.alarms, clock: ctx.clock, log: ctx.log, signal: ctx.signal, deadline
    })
    const outcome = before.failure
      ? await restoreBadCanary(before.failure, before.checks)
      : await runTrafficSteps(
          config,
          ctx,
          {
            routes: found.routes,
            pair: traffic.pair,
            newFleet,
            stableFleet,
            steps: plan.steps,
            restore: plan.restore,
            cancelRestore: pausedWeights,
            instanceIds,
            deadline,
            firstStepNumber: config.trafficSteps.filter((w) => w <= currentWeight).length + 1,
            stillHoldsLock: () => holdsLock(ctx.clients.elb, lockArn, ctx.run)
          },
          report,
          progress
        )
    if (outcome.kind === 'failed' && outcome.cancelled && outcome.restored) {
      describeFleetsAndRoutes(report, found, { routes: outcome.routes, records })
      return finish(report, ctx, 'paused', `Promote of ${targetGroupName(newFleet)} was cancelled; the canary is back at ${currentWeight}%: promote or rollback later`)
    }
    if (outcome.kind === 'failed') {
      unresolved = !outcome.restored && config.autoRollback
      records[newFleet] = { ...records[newFleet], role: 'failed' }
      records[stableFleet] = { ...records[stableFleet], role: 'live' }
      await recordAfterTraffic(ctx, report, newFleet, records[newFleet])
      describeFleetsAndRoutes(report, found, { routes: outcome.routes, records })
      const next = outcome.restored ? `all traffic is back on ${targetGroupName(stableFleet)}` : 'traffic was NOT restored: run rollback'
      return finish(report, ctx, outcome.restored ? 'rolled-back' : 'failed', `Promote of ${targetGroupName(newFleet)} ${outcome.restored ? 'rolled back' : 'failed'}: ${outcome.message}; ${next}`)
    }
    records[newFleet] = { ...records[newFleet], role: 'live' }
    records[stableFleet] = { ...records[stableFleet], role: 'previous' }
    await Promise.all([recordAfterTraffic(ctx, report, newFleet, records[newFleet]), recordAfterTraffic(ctx, report, stableFleet, records[stableFleet])])
    Object.assign(report.outputs, { live: newFleet, idle: stableFleet, previous: stableFleet, deployed: newFleet })
    describeFleetsAndRoutes(report, found, { routes: outcome.routes, records })
    return finish(report, ctx, 'succeeded', `Promoted ${targetGroupName(newFleet)}${records[newFleet].version ? ` (${records[newFleet].version})` : ''} to all traffic; ${targetGroupName(stableFleet)} keeps running for a rollback`)
  } finally {
    // Traffic that could not be restored stays the post step's job, and so does the lock.
    if (!unresolved) {
      await releaseLock(ctx.clients.elb, lockArn, ctx.run).catch((e) => ctx.log.warning(`Could not release the deploy lock: ${(e as Error).message}`))
    }
    progress.finished = !unresolved
    ctx.saveProgress({ ...progress })
  }
}
