import { targetHealth } from '../aws/elbv2.js'
import { routeLabel, targetGroupName } from '../config/arn.js'
import { DeployError, LockLostError } from '../config/errors.js'
import type { Config } from '../config/inputs.js'
import { type CommandReport, runDeployCommands } from '../fleet/deploy-commands.js'
import { waitHealthy } from '../fleet/health-wait.js'
import { checkInstancesReady } from '../fleet/instance-readiness.js'
import { type PlanReport, planDeploy } from '../plan/deploy-plan.js'
import { pairWeights } from '../plan/forward-action.js'
import { chooseIdleFleet } from '../plan/idle-fleet.js'
import { healthTimeoutProblem } from '../plan/preflight.js'
import { chooseHookInstance, describeHooks } from '../plan/run-once-plan.js'
import { refuseOverStagedCanary } from '../plan/staged-canary.js'
import { describeWeights } from '../plan/traffic-state.js'
import { DeployRecord, recordAfterTraffic } from '../records/write-records.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import type { HoldCheck } from '../traffic/checks/check.js'
import { describeChecks, firstFailingGate, holdChecks, planWarnings } from '../traffic/checks/hold-checks.js'
import type { PreviewReport } from '../plan/preview-rule.js'
import { releasePinnedClients } from '../traffic/shift.js'
import { routesPinningTo } from '../traffic/stickiness.js'
import { runTrafficSteps } from '../traffic/steps.js'
import { planPreview, runBeforeTrafficCommands, runContractCommands } from './around-traffic.js'
import { type Discovery, discover, pairTargetSticky, refuseProblems } from './discover.js'
import {
  endAfterFailedSteps,
  endAfterInterruption,
  endWithNewFleetLive,
  type HeldPair,
  OperationRun,
  planningAgainOnChange,
  type ShiftedFleets,
  withThePair
} from './lifecycle.js'
import { type FleetToDetect, groupsReport } from '../fleet/auto-scaling.js'
import { findNewFleetGroup } from '../fleet/new-fleet-group.js'

// Instances that join the idle fleet while it is deployed get the commands too, this many times.
const DEPLOY_ROUNDS = 3

/**
 * `operation: deploy`: new code on the idle fleet, checked, then traffic moved to it in steps.
 * Nothing reaches the new fleet until its commands succeeded and its targets are healthy.
 */
export function deploy(config: Config, ctx: RunContext): Promise<RunReport> {
  return planningAgainOnChange(ctx, (attempt) => deployOnce(config, attempt))
}

async function deployOnce(config: Config, ctx: RunContext): Promise<RunReport> {
  const run = new OperationRun(config, ctx)
  const checks = holdChecks(config, ctx, run.report)
  // The gates are read alongside the routes: a misspelt alarm name fails a dry run too.
  const [found, failingGate] = await Promise.all([
    discover(config, ctx.clients.elb, ctx.routesAtStart),
    firstFailingGate(checks)
  ])
  const { newFleet, stableFleet } = chooseIdleFleet(found.traffic)
  refuseOverStagedCanary(found.traffic, found.fleets)
  // Settings that cannot work are refused before anything changes, the dry run included.
  refuseProblems(found)
  const shortHealthTimeout = healthTimeoutProblem(config.healthTimeoutMs, found.fleets[newFleet].cadence, newFleet)
  if (shortHealthTimeout) throw shortHealthTimeout
  const pinning = routesPinningTo(found.routes, newFleet, (r) => pairWeights(r, found.traffic.pair))
  if (pinning.length > 0 && pairTargetSticky(found)) throw cannotReleasePinned(newFleet)
  // A fleet that is an Auto Scaling group may be cold: it is scaled to the live fleet's size first.
  const group = await findNewFleetGroup(ctx, config, toDetect(found, newFleet), toDetect(found, stableFleet))
  const instanceIds =
    group?.scale.kind === 'scale' ? registeredIds(found, newFleet) : registeredInstances(found, newFleet)
  if (group) found.fleets[newFleet].autoScaling = groupsReport(group.fleet)
  const plan = planDeploy({
    config,
    pair: found.traffic.pair,
    newFleet,
    routes: found.traffic.routes,
    instanceIds,
    currentWeight: 0,
    endAtFull: false,
    checks: describeChecks(checks),
    prepare: group?.planLines()
  })
  plan.hooks = describeHooks(config, { ...plan, instanceId: chooseHookInstance(instanceIds) })
  run.report.plan = plan
  Object.assign(run.report.outputs, { live: stableFleet, idle: newFleet, instanceIds })
  // Planned while nothing has changed: a listener with no room for it fails the deploy here.
  const preview = await planPreview(run, found, newFleet)
  logPlan(ctx, plan, config, preview?.report)
  run.warnAboutPlan(planWarnings(checks, config))
  if (config.dryRun) {
    const steps = `${plan.steps.length} step${plan.steps.length > 1 ? 's' : ''}`
    const scale = group?.scale.kind === 'scale' ? `scale ${group.group.name} to ${group.scale.to} instances, ` : ''
    const size = group?.scale.kind === 'scale' ? '' : ` (${instanceIds.length} instances)`
    return run.dryRun(
      found,
      `Dry run: would ${scale}deploy ${config.version} to ${targetGroupName(newFleet)}${size} and move traffic in ${steps}; nothing was changed`
    )
  }
  // An alarm already firing would fail the first hold anyway; stopping now spares the users the canary.
  if (failingGate) {
    run.report.failure = { what: failingGate.line, at: ctx.clock.now(), step: 0, weight: 0 }
    return run.end(
      found,
      { routes: found.routes },
      'failed',
      `${capitalise(failingGate.line)} before the deploy; nothing was changed: fix what it reports, then deploy again`
    )
  }

  // Read-only, so it runs while the lock is taken; its answer is awaited before anything is sent.
  // A group's instances are known only once it is held still: they are checked then.
  const instancesReady = group ? Promise.resolve() : checkInstancesReady(ctx.clients.ssm, instanceIds)
  instancesReady.catch(() => undefined)
  if (group) run.report.autoScaling = group.report
  return withThePair(
    run,
    found,
    { operation: 'deploy', newFleet, stableFleet, restore: plan.restore, trafficMoved: false, preview },
    async (pair) => {
      try {
        return await deployHeld(pair)
      } finally {
        // Whatever the ending, the lock lost included: the group gets back exactly the processes
        // this run took from it (nobody else knows it took them).
        await group?.letGo(pair.processesSuspended)
      }
    }
  )

  async function deployHeld(pair: HeldPair): Promise<RunReport> {
    const c = pair.ctx
    const fleets: ShiftedFleets = {
      newFleet,
      stableFleet,
      records: {
        [stableFleet]: { ...found.fleets[stableFleet].record, role: 'live' },
        [newFleet]: {
          version: config.version,
          role: 'deploying',
          deployedAt: new Date(c.clock.now()).toISOString(),
          deployedBy: c.run.url
        }
      }
    }
    const record = new DeployRecord(c, pair.guard, newFleet, found.fleets[newFleet].record, fleets.records[newFleet])
    let deployed = instanceIds
    try {
      if (group) {
        group.heldWith(c, pair.guard)
        const ready = await group.prepare(run.deadline - c.clock.now(), pair.processesSuspended)
        Object.assign(plan, { instanceIds: ready })
        run.report.outputs.instanceIds = deployed = ready
        await checkInstancesReady(c.clients.ssm, ready)
      }
      await instancesReady
      if (pinning.length > 0) await releasePinned(run, pair, pinning, newFleet)
      // Recorded before the commands go out: a rollback forced meanwhile must not pick this
      // fleet; a deploy that stops before sending anything puts the record back.
      pair.recordsIfCut({ [newFleet]: record.before })
      await record.markDeploying()
      pair.recordsIfCut({ [newFleet]: { ...record.current, role: 'failed' } })
      deployed = await deployToFleet(run, pair, found, newFleet, deployed)
      // The fleet has taken the version: instances its group launches from now on install it too.
      await group?.recordVersion()
      await runBeforeTrafficCommands(run, pair, newFleet, found.fleets[newFleet].instances)
      await gateBeforeTraffic(checks)
      await record.mark('canary')
      if (preview) await pair.guard('Opening the preview', () => preview.open(pair.previewOpened))
    } catch (error) {
      const lost = lockLoss(error, c.signal)
      if (lost) return endLostLockBeforeTraffic(run, found, lost)
      // Before traffic moved every failure ends the same way: nothing reached the new fleet.
      fleets.records[newFleet] = await record.endBeforeTraffic(pair.hasSentCommands)
      return endBeforeTraffic(run, found, fleets, error)
    }
    fleets.records[newFleet] = record.current
    run.report.outputs.instanceIds = deployed
    // Should the run die mid-canary, its post step restores and records the deploy failed; with
    // auto-rollback off it leaves traffic, and the canary stays recorded a canary.
    pair.recordsIfCut(config.autoRollback ? { [newFleet]: { ...record.current, role: 'failed' } } : {})

    const outcome = await runTrafficSteps(
      config,
      c,
      {
        routes: found.routes,
        pair: found.traffic.pair,
        newFleet,
        stableFleet,
        steps: plan.steps,
        checks,
        restore: plan.restore,
        instanceIds: deployed,
        deadline: run.deadline,
        firstStepNumber: 1,
        targetSticky: pairTargetSticky(found),
        guard: pair.guard,
        confirmHeld: pair.confirmHeld,
        onTrafficMoved: pair.trafficMoved
      },
      run.report
    )
    const what = `Deploy of ${config.version}`
    if (outcome.kind === 'interrupted') return endAfterInterruption(run, pair, found, fleets, outcome, what)
    if (outcome.kind === 'failed') return endAfterFailedSteps(run, pair, found, fleets, outcome, what)
    run.report.outputs.deployed = newFleet
    if (plan.pauses) {
      await recordAfterTraffic(c, pair.guard, run.report.warnings, stableFleet, fleets.records[stableFleet])
      // The preview stays for the testers and reviewers; the promote or rollback closes it.
      pair.keepPreviewOpen()
      const last = plan.steps.at(-1)?.weight ?? 0
      const open = preview ? ', preview open' : ''
      return run.end(
        found,
        { routes: outcome.routes, records: fleets.records },
        'paused',
        `Canary of ${config.version} paused at ${last}% on ${targetGroupName(newFleet)}${open}; run promote to continue, or rollback`
      )
    }
    return endWithNewFleetLive(
      run,
      pair,
      found,
      fleets,
      outcome.routes,
      `Deployed ${config.version} to ${targetGroupName(newFleet)}; it now takes all traffic, ${targetGroupName(stableFleet)} keeps running for a rollback`,
      () =>
        runContractCommands(
          run,
          pair,
          newFleet,
          fleets.records[newFleet],
          found.fleets[newFleet].instances,
          stableFleet
        )
    )
  }
}

function toDetect(found: Discovery, arn: string): FleetToDetect {
  return { targetGroupArn: arn, registeredIds: registeredIds(found, arn) }
}

function registeredIds(found: Discovery, arn: string): string[] {
  return found.fleets[arn].instances.map((t) => t.id)
}

function registeredInstances(found: Discovery, newFleet: string): string[] {
  const instanceIds = found.fleets[newFleet].instances.map((t) => t.id)
  if (instanceIds.length === 0) {
    throw new DeployError(
      `Target group ${targetGroupName(newFleet)} (the idle fleet) has no registered instances; register the idle fleet's instances in it, then deploy`
    )
  }
  return instanceIds
}

/**
 * The commands on the idle fleet, then every target healthy on the new code. An instance that
 * joins the fleet meanwhile (an Auto Scaling group, a person) gets the commands too and must be
 * healthy as well, before any traffic moves: it would otherwise serve whatever it was launched
 * with. Returns every instance that took the deploy.
 */
async function deployToFleet(
  run: OperationRun,
  pair: HeldPair,
  found: Discovery,
  newFleet: string,
  instanceIds: string[]
): Promise<string[]> {
  const { config } = run
  const c = pair.ctx
  const name = targetGroupName(newFleet)
  const sent: string[] = []
  const reports: CommandReport[] = []
  let deployed: string[] = []
  let joining = instanceIds
  for (let round = 1; joining.length > 0; round++) {
    if (round > DEPLOY_ROUNDS) {
      throw new DeployError(
        `Instances kept joining ${name} during the deploy (${joining.join(', ')}); no traffic was moved: stop what registers them (an Auto Scaling group's scaling), then deploy again`
      )
    }
    if (round > 1) {
      c.log.warning(
        `${joining.join(', ')} joined ${name} during the deploy: running the deploy commands on ${joining.length > 1 ? 'them' : 'it'} too before any traffic moves`
      )
      await checkInstancesReady(c.clients.ssm, joining)
    }
    const report = await c.log.group(`Commands on ${name} (${joining.length} instances)`, () =>
      runDeployCommands(config, c, joining, {
        onSent: (ids) => pair.commandsSent([...sent, ...ids]),
        onReport: (commands) => reportCommands(run, [...reports, commands]),
        guard: pair.guard
      })
    )
    reports.push(report)
    sent.push(...report.commandIds)
    deployed = [...deployed, ...joining]
    found.fleets[newFleet].instances = await waitForNewFleetHealth(run, c, found, newFleet, deployed)
    const registered = (await targetHealth(c.clients.elb, newFleet)).filter((t) => t.state !== 'draining')
    joining = registered.map((t) => t.id).filter((id) => !deployed.includes(id))
  }
  return deployed
}

/** Every command report of the deploy as one, for the summary and the outputs. */
function reportCommands(run: OperationRun, reports: CommandReport[]): void {
  const [first] = reports
  run.report.commands = {
    ...first,
    commandIds: reports.flatMap((r) => r.commandIds),
    total: reports.reduce((n, r) => n + r.total, 0),
    succeeded: reports.reduce((n, r) => n + r.succeeded, 0),
    failed: reports.reduce((n, r) => n + r.failed, 0),
    instances: reports.flatMap((r) => r.instances)
  }
  run.report.outputs.commandId = first.commandIds[0]
}

/** Every target of the new fleet healthy on the new code, within health-timeout and the deadline. */
async function waitForNewFleetHealth(
  run: OperationRun,
  ctx: RunContext,
  found: Discovery,
  newFleet: string,
  instanceIds: string[]
) {
  const { config } = run
  const untilDeadlineMs = run.deadline - ctx.clock.now()
  if (untilDeadlineMs <= 0) {
    throw new DeployError(
      `The operation's timeout (${Math.round(config.timeoutMs / 60_000)}m) was reached before the health check; no traffic was moved: raise timeout`
    )
  }
  return ctx.log.group(`Health of ${targetGroupName(newFleet)}: every target healthy on the new code`, () =>
    waitHealthy(ctx.clients.elb, newFleet, {
      instanceIds,
      cadence: found.fleets[newFleet].cadence,
      timeoutMs: Math.min(config.healthTimeoutMs, untilDeadlineMs),
      clock: ctx.clock,
      log: ctx.log,
      signal: ctx.signal
    })
  )
}

/**
 * Group stickiness on while the idle fleet takes no traffic: a cookie still pins some clients to
 * it (on an ALB it outranks weight 0), and they would be served by the fleet whose code is about
 * to change. Turned off first, weights unchanged, and said.
 */
async function releasePinned(run: OperationRun, pair: HeldPair, pinning: Discovery['routes'], newFleet: string) {
  const c = pair.ctx
  await releasePinnedClients(c.clients.elb, pinning, pair.guard)
  const message = `Group stickiness was on while ${targetGroupName(newFleet)} took no traffic; turned it off before the deploy, so that clients a cookie pinned to ${targetGroupName(newFleet)} leave it before its code changes`
  c.log.warning(message)
  run.report.warnings.push(message)
}

function cannotReleasePinned(newFleet: string): DeployError {
  return new DeployError(
    `Group stickiness is on while ${targetGroupName(newFleet)} takes no traffic, so clients a cookie pinned to it would be served by the fleet being deployed; it cannot be turned off while a group of the pair has target stickiness on (AWS requires group stickiness then): turn off target stickiness (stickiness.enabled) on both groups, then deploy; nothing was changed`
  )
}

/** The checks' gates once more, just before the first shift: the world may have changed meanwhile. */
async function gateBeforeTraffic(checks: HoldCheck[]): Promise<void> {
  const failing = await firstFailingGate(checks)
  if (failing) {
    throw new DeployError(
      `${capitalise(failing.line)} before traffic moved; no traffic was moved: fix what it reports, then deploy again`
    )
  }
}

function lockLoss(error: unknown, signal: AbortSignal): LockLostError | undefined {
  if (error instanceof LockLostError) return error
  return signal.aborted && signal.reason instanceof LockLostError ? signal.reason : undefined
}

/** Another run took the pair before traffic moved: it decides now; this run changes nothing more. */
function endLostLockBeforeTraffic(run: OperationRun, found: Discovery, error: LockLostError): RunReport {
  run.report.failure = { what: error.message, at: run.ctx.clock.now(), step: 0, weight: 0 }
  run.report.warnings.push(error.message)
  return run.end(
    found,
    { routes: found.routes },
    'failed',
    `Deploy of ${run.config.version} stopped before traffic moved: ${error.message}`
  )
}

function endBeforeTraffic(run: OperationRun, found: Discovery, fleets: ShiftedFleets, error: unknown): RunReport {
  const message = run.ctx.signal.aborted
    ? 'The run was cancelled before traffic moved; no traffic was moved'
    : failureMessage(error)
  run.report.failure ??= { what: message, at: run.ctx.clock.now(), step: 0, weight: 0 }
  return run.end(found, { routes: found.routes, records: fleets.records }, 'failed', message)
}

/** An error before traffic moved, in words that say what to do; AWS's own errors get a hint. */
function failureMessage(error: unknown): string {
  if (error instanceof DeployError) return error.message
  const name = (error as Error)?.name ?? 'Error'
  const message = (error as Error)?.message ?? String(error)
  const hint = /AccessDenied|Unauthorized|not authorized/i.test(`${name} ${message}`)
    ? 'grant the permission named (see the IAM policy in the README)'
    : /Throttl|Rate exceeded|TooManyRequests/i.test(`${name} ${message}`)
      ? 'AWS throttled the calls beyond the retries; run the deploy again'
      : 'run the deploy again, and report it if it repeats'
  return `${name}: ${message}; no traffic was moved: ${hint}`
}

function logPlan(ctx: RunContext, plan: PlanReport, config: Config, preview?: PreviewReport): void {
  const ids = plan.instanceIds
  const fleet =
    ids.length > 0
      ? `${ids.length} instances: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`
      : 'its instances once scaled'
  ctx.log.info(`Plan: deploy ${config.version} to ${targetGroupName(plan.newFleet)} (${fleet})`)
  for (const line of plan.prepare ?? []) ctx.log.info(`  first: ${line}`)
  plan.steps.forEach((step, i) =>
    ctx.log.info(
      `  step ${i + 1}: ${step.weight}% of traffic on ${targetGroupName(plan.newFleet)}, held ${Math.round(step.holdMs / 1000)}s`
    )
  )
  if (plan.pauses) ctx.log.info('  then pause for a promote')
  for (const hook of plan.hooks ?? []) ctx.log.info(`  ${hook}`)
  for (const rule of preview?.rules ?? []) {
    ctx.log.info(
      `  preview: rule at priority ${rule.priority} on ${routeLabel(rule.listenerArn)}, ${preview?.header}: ${preview?.value} to ${targetGroupName(plan.newFleet)} only${rule.curl ? `: ${rule.curl}` : ''}`
    )
  }
  ctx.log.info(`  on failure: restore ${Object.values(plan.restore).map(describeWeights).join('; ')}`)
  ctx.log.info(`  checks during each hold: ${plan.checks.join(', ')}`)
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
