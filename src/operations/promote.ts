import { targetGroupName } from '../config/arn.js'
import { type Config, holdsOverrunTimeout } from '../config/inputs.js'
import { planDeploy } from '../plan/deploy-plan.js'
import { chooseHookInstance, describeHooks } from '../plan/run-once-plan.js'
import { stagedCanary } from '../plan/staged-canary.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import { DeployError } from '../config/errors.js'
import { describeChecks, holdChecks, planWarnings } from '../traffic/checks/hold-checks.js'
import { runTrafficSteps } from '../traffic/steps.js'
import { findPreview, runContractCommands } from './around-traffic.js'
import { type Discovery, discover, pairTargetSticky, refuseProblems } from './discover.js'
import {
  endAfterFailedSteps,
  endAfterInterruption,
  endWithNewFleetLive,
  OperationRun,
  planningAgainOnChange,
  type ShiftedFleets,
  withThePair
} from './lifecycle.js'

/**
 * `operation: promote`: continues a paused canary through the steps above its weight to 100%.
 * Which fleet is new is read from the records on AWS, so an approved job needs nothing passed
 * from the job that deployed.
 */
export function promote(config: Config, ctx: RunContext): Promise<RunReport> {
  return planningAgainOnChange(ctx, (attempt) => promoteOnce(config, attempt))
}

async function promoteOnce(config: Config, ctx: RunContext): Promise<RunReport> {
  const run = new OperationRun(config, ctx)
  const found = await discover(config, ctx.clients.elb, ctx.routesAtStart)
  // Settings that cannot work are refused before anything changes, the dry run included.
  refuseProblems(found)
  const { traffic, fleets } = found
  if (!traffic.percent) {
    throw new DeployError(
      `The routes disagree (${traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}); run rollback to put traffic back on the stable fleet`
    )
  }
  // A canary staged at 0% (canary-steps 0) is promoted like one at 10%.
  const staged = stagedCanary(traffic, fleets)
  if (!traffic.mixed && !staged) {
    Object.assign(run.report.outputs, { live: traffic.live, idle: traffic.idle })
    if (config.contractCommands.length > 0) return contractLater(run, found)
    return run.end(
      found,
      { routes: found.routes },
      'unchanged',
      `No canary in progress (${describeWeights(traffic.percent)}); nothing to promote`
    )
  }
  const newFleet = staged ?? traffic.pair.find((arn) => fleets[arn].record.role === 'canary')
  if (!newFleet) {
    throw new DeployError(
      `Traffic is split (${describeWeights(traffic.percent)}) but neither fleet is recorded as the canary; run rollback to put all traffic on one fleet`
    )
  }
  const stableFleet = traffic.pair.find((arn) => arn !== newFleet) as string
  const instanceIds = fleets[newFleet].instances.map((t) => t.id)
  const currentWeight = traffic.percent[newFleet]
  const checks = holdChecks(config, ctx, run.report)
  const plan = planDeploy({
    config,
    pair: traffic.pair,
    newFleet,
    routes: traffic.routes,
    instanceIds,
    currentWeight,
    endAtFull: true,
    checks: describeChecks(checks)
  })
  // Known only now: the holds above the paused weight. A deadline they overrun would roll back a
  // healthy canary halfway, so the promote is refused before it moves anything.
  const overrun = holdsOverrunTimeout(plan.steps.length, config.stepWaitMs, config.timeoutMs)
  if (overrun) throw overrun
  const stepsText = plan.steps.map((s) => `${s.weight}%`).join(', ')
  plan.hooks = describeHooks(config, {
    ...plan,
    instanceId: chooseHookInstance(instanceIds, fleets[newFleet].instances)
  })
  run.report.plan = plan
  const preview = await findPreview(run, found)
  run.report.version = fleets[newFleet].record.version
  Object.assign(run.report.outputs, { live: stableFleet, idle: newFleet, instanceIds })
  ctx.log.info(`Promoting ${targetGroupName(newFleet)} from ${currentWeight}%: steps ${stepsText}`)
  run.warnAboutPlan(planWarnings(checks, config))
  if (config.dryRun) {
    return run.dryRun(
      found,
      `Dry run: would promote ${targetGroupName(newFleet)} from ${currentWeight}% through ${stepsText}; nothing was changed`
    )
  }

  // A cancelled promote goes back to the paused canary the reviewers approved, not further back:
  // nothing failed, so the canary stays in place for another promote or a rollback. Should this
  // run die, its post step puts the canary back there too, and leaves it recorded a canary.
  const pausedWeights = Object.fromEntries(traffic.routes.map(({ route, weights }) => [route.arn, { ...weights }]))
  return withThePair(
    run,
    found,
    { operation: 'promote', newFleet, stableFleet, restore: pausedWeights, trafficMoved: true, records: {}, preview },
    async (pair) => {
      const shifted: ShiftedFleets = {
        newFleet,
        stableFleet,
        records: { [newFleet]: fleets[newFleet].record, [stableFleet]: fleets[stableFleet].record }
      }
      const outcome = await runTrafficSteps(
        config,
        pair.ctx,
        {
          routes: found.routes,
          pair: traffic.pair,
          newFleet,
          stableFleet,
          steps: plan.steps,
          checks,
          restore: plan.restore,
          cancelRestore: pausedWeights,
          instanceIds,
          deadline: run.deadline,
          firstStepNumber: config.trafficSteps.filter((w) => w <= currentWeight).length + 1,
          // Look at the canary where it stands before giving it more traffic.
          lookFirstAt: currentWeight,
          targetSticky: pairTargetSticky(found),
          guard: pair.guard,
          confirmHeld: pair.confirmHeld,
          onTrafficMoved: pair.trafficMoved,
          // A canary that failed a look is done for: a post step that finds the run killed while
          // it put traffic back must finish that restore, not return to the paused canary.
          onStepFailed: (restore) => {
            pair.restoreIfCut(restore)
            pair.recordsIfCut({ [newFleet]: { ...shifted.records[newFleet], role: 'failed' } })
          }
        },
        run.report
      )
      const what = `Promote of ${targetGroupName(newFleet)}`
      if (outcome.kind === 'interrupted') return endAfterInterruption(run, pair, found, shifted, outcome, what)
      if (outcome.kind === 'failed' && outcome.cancelled && outcome.restored) {
        pair.keepPreviewOpen()
        return run.end(
          found,
          { routes: outcome.routes, records: shifted.records },
          'paused',
          `Promote of ${targetGroupName(newFleet)} was cancelled; the canary is back at ${currentWeight}%: promote or rollback later`
        )
      }
      if (outcome.kind === 'failed') return endAfterFailedSteps(run, pair, found, shifted, outcome, what)
      const version = fleets[newFleet].record.version ? ` (${fleets[newFleet].record.version})` : ''
      return endWithNewFleetLive(
        run,
        pair,
        found,
        shifted,
        outcome.routes,
        `Promoted ${targetGroupName(newFleet)}${version} to all traffic; ${targetGroupName(stableFleet)} keeps running for a rollback`,
        () => runContractCommands(run, pair, newFleet, fleets[newFleet].record, fleets[newFleet].instances, stableFleet)
      )
    }
  )
}

/**
 * A promote with contract-commands on a fleet that already takes all traffic runs the contract
 * alone: later than the deploy (after a day of real traffic), or again after one that failed.
 */
async function contractLater(run: OperationRun, found: Discovery): Promise<RunReport> {
  const { traffic, fleets } = found
  const live = traffic.live
  const idle = traffic.idle
  if (!live || !idle || fleets[live].record.role !== 'live') {
    return run.end(
      found,
      { routes: found.routes },
      'unchanged',
      'No canary in progress and no fleet recorded live; nothing to promote or contract'
    )
  }
  const version = fleets[live].record.version ? ` (${fleets[live].record.version})` : ''
  if (fleets[live].contract?.state === 'done') {
    return run.end(
      found,
      { routes: found.routes },
      'unchanged',
      `contract-commands already ran on ${targetGroupName(live)}${version} at ${fleets[live].contract?.at}; nothing to promote`
    )
  }
  const instanceId = chooseHookInstance(
    fleets[live].instances.map((i) => i.id),
    fleets[live].instances
  )
  run.report.plan = {
    newFleet: live,
    oldFleet: idle,
    instanceIds: fleets[live].instances.map((i) => i.id),
    steps: [],
    restore: {},
    pauses: false,
    checks: [],
    hooks: describeHooks(run.config, { newFleet: live, oldFleet: idle, instanceId, pauses: false })
  }
  if (run.config.dryRun) {
    return run.dryRun(
      found,
      `Dry run: would run contract-commands once on ${targetGroupName(live)}${version}; nothing was changed`
    )
  }
  return withThePair(
    run,
    found,
    { operation: 'promote', newFleet: live, stableFleet: idle, trafficMoved: false },
    async (pair) => {
      const ending = await runContractCommands(run, pair, live, fleets[live].record, fleets[live].instances, idle)
      return run.end(
        found,
        { routes: found.routes },
        ending?.result ?? 'succeeded',
        ending?.headline ??
          `contract-commands ran on ${targetGroupName(live)}${version}; from now on rollback to ${targetGroupName(idle)} is refused`
      )
    }
  )
}
