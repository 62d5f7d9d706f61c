import { firing, readAlarms } from './alarms.js'
import { targetGroupName } from './arn.js'
import type { Config } from './config.js'
import type { RunContext } from './context.js'
import { discover, type Discovery } from './discover.js'
import { DeployError } from './errors.js'
import { holdsLock, releaseLock } from './lock.js'
import { removeTags, writeTags } from './load-balancer.js'
import { planDeploy } from './plan.js'
import type { Progress } from './progress.js'
import { type FleetRecord, TAG, tagsFromRecord } from './records.js'
import type { PlanReport, RunReport } from './report.js'
import { describeFleetsAndRoutes, newReport } from './report-builder.js'
import { finish, record, recordAfterTraffic } from './run-outcome.js'
import { takeThePair } from './take-the-pair.js'
import { checkInstancesReady, commandComment, consoleUrl, logGroupUrl, runCommand } from './run-command.js'
import { waitHealthy } from './target-health.js'
import { runTrafficSteps } from './traffic-steps.js'
import { describeWeights } from './traffic-state.js'

/**
 * `operation: deploy`: new code on the idle fleet, checked, then traffic moved to it in steps.
 * Nothing reaches the new fleet until its commands succeeded and its targets are healthy.
 */
export async function deploy(config: Config, ctx: RunContext): Promise<RunReport> {
  const report = newReport(config, ctx.clock.now(), ctx.run.url)
  const deadline = report.startedAt + config.timeoutMs
  // Alarms are read alongside the routes: a misspelt alarm name fails a dry run too.
  const [found, alarmsAtStart] = await Promise.all([discover(config, ctx.clients.elb, ctx.routesAtStart), readAlarms(ctx.clients.cloudwatch, config.alarms)])
  const { newFleet, stableFleet } = chooseIdleFleet(found)
  const instanceIds = found.fleets[newFleet].instances.map((t) => t.id)
  if (instanceIds.length === 0) {
    throw new DeployError(`Target group ${targetGroupName(newFleet)} (the idle fleet) has no registered instances; register the idle fleet's instances in it, then deploy`)
  }
  const plan = planDeploy({ config, pair: found.traffic.pair, newFleet, routes: found.traffic.routes, instanceIds, currentWeight: 0, endAtFull: false })
  report.plan = plan
  Object.assign(report.outputs, { live: stableFleet, idle: newFleet, instanceIds })
  logPlan(ctx, plan, config)
  if (config.dryRun) {
    describeFleetsAndRoutes(report, found, { routes: found.routes })
    return finish(report, ctx, 'unchanged', `Dry run: would deploy ${config.version} to ${targetGroupName(newFleet)} (${instanceIds.length} instances) and move traffic in ${plan.steps.length} step${plan.steps.length > 1 ? 's' : ''}; nothing was changed`)
  }

  // An alarm already firing would fail the first hold anyway; stopping now spares the users the canary.
  const alarmsBefore = firing(alarmsAtStart)
  if (alarmsBefore.length > 0) {
    describeFleetsAndRoutes(report, found, { routes: found.routes })
    report.failure = { what: `alarm ${alarmsBefore.map((a) => a.name).join(', ')} already in ALARM`, at: ctx.clock.now(), step: 0, weight: 0 }
    return finish(report, ctx, 'failed', `Alarm ${alarmsBefore.map((a) => a.name).join(', ')} is in ALARM before the deploy; nothing was changed: fix what it reports, then deploy again`)
  }

  // Read-only, so it runs while the lock is taken; its answer is awaited before anything is sent.
  const instancesReady = checkInstancesReady(ctx.clients.ssm, instanceIds)
  instancesReady.catch(() => undefined)
  const lockArn = await takeThePair(ctx, config, found, 'deploy')
  const progress: Progress = {
    region: config.region,
    runId: ctx.run.id,
    pair: [...found.traffic.pair],
    newFleet,
    stableFleet,
    listenerArns: config.listenerArns,
    ruleArns: config.ruleArns,
    restore: plan.restore,
    trafficMoved: false,
    commandIds: [],
    lockArn,
    finished: false
  }
  ctx.saveProgress(progress)
  const records: Record<string, FleetRecord> = {
    [stableFleet]: { ...found.fleets[stableFleet].record, role: 'live' },
    [newFleet]: { version: config.version, role: 'deploying', deployedAt: new Date(ctx.clock.now()).toISOString(), deployedBy: ctx.run.url }
  }
  let routes = found.routes
  // Set when traffic could not be put back: the post step must then try again.
  let unresolved = false
  let recordedDeploying = false
  let recording: Promise<void> = Promise.resolve()
  try {
    // The idle fleet serves nothing, so every instance takes the new code at once.
    await instancesReady
    // Recorded only now, as the commands go out: a deploy that stops before sending anything
    // leaves the fleet as it was, so it stays a valid rollback target.
    recording = record(ctx, newFleet, records[newFleet]).then(() => {
      recordedDeploying = true
    })
    recording.catch(() => undefined)
    const commands = await runCommand(
      ctx.clients.ssm,
      {
        instanceIds,
        document: config.document,
        parameters: config.documentParameters,
        executionTimeoutMs: config.commandTimeoutMs,
        maxConcurrency: config.maxConcurrency,
        maxErrors: config.maxErrors,
        comment: commandComment({ version: config.version, repository: ctx.run.repository, runId: ctx.run.runId }),
        cloudWatchLogGroup: config.cloudWatchLogGroup
      },
      {
        clock: ctx.clock,
        log: ctx.log,
        signal: ctx.signal,
        onSent: (ids) => ctx.saveProgress({ ...progress, commandIds: (progress.commandIds = ids) })
      }
    )
    await recording
    report.outputs.commandId = commands.commandIds[0]
    report.commands = {
      commandIds: commands.commandIds,
      documentName: config.document,
      consoleUrl: commands.commandIds[0] ? consoleUrl(config.region, commands.commandIds[0]) : undefined,
      logGroupUrl: config.cloudWatchLogGroup ? logGroupUrl(config.region, config.cloudWatchLogGroup) : undefined,
      total: instanceIds.length,
      succeeded: commands.succeeded,
      failed: commands.failed,
      instances: commands.results
    }
    if (!commands.withinMaxErrors) {
      const why = commands.timedOut ? `timed out after command-timeout` : `failed`
      throw new DeployError(`The deploy commands ${why} on ${commands.failed} of ${instanceIds.length} instances (max-errors ${config.maxErrors}); no traffic was moved: see the failed instances' output below`)
    }

    ctx.log.info(`Waiting for every target of ${targetGroupName(newFleet)} to be healthy`)
    const health = await waitHealthy(ctx.clients.elb, newFleet, {
      instanceIds,
      cadence: found.fleets[newFleet].cadence,
      timeoutMs: healthBudget(config, deadline - ctx.clock.now()),
      clock: ctx.clock,
      log: ctx.log,
      signal: ctx.signal
    })
    found.fleets[newFleet].instances = health

    const alarmsNow = firing(await readAlarms(ctx.clients.cloudwatch, config.alarms))
    if (alarmsNow.length > 0) {
      throw new DeployError(`Alarm ${alarmsNow.map((a) => a.name).join(', ')} went to ALARM before traffic moved; no traffic was moved: fix what it reports, then deploy again`)
    }

    records[newFleet] = { ...records[newFleet], role: 'canary' }
    await record(ctx, newFleet, records[newFleet])
    const outcome = await runTrafficSteps(
      config,
      ctx,
      {
        routes,
        pair: found.traffic.pair,
        newFleet,
        stableFleet,
        steps: plan.steps,
        restore: plan.restore,
        instanceIds,
        deadline,
        firstStepNumber: 1,
        stillHoldsLock: () => holdsLock(ctx.clients.elb, lockArn, ctx.run)
      },
      report,
      progress
    )
    routes = outcome.routes
    if (outcome.kind === 'failed') {
      unresolved = !outcome.restored && config.autoRollback
      records[newFleet] = { ...records[newFleet], role: 'failed' }
      await recordAfterTraffic(ctx, report, newFleet, records[newFleet])
      const result = outcome.restored ? 'rolled-back' : 'failed'
      const next = outcome.restored
        ? `all traffic is back on ${targetGroupName(stableFleet)}`
        : `traffic was NOT restored: run rollback`
      describeFleetsAndRoutes(report, found, { routes, records })
      return finish(report, ctx, result, `Deploy of ${config.version} ${outcome.restored ? 'rolled back' : 'failed'}: ${outcome.message}; ${next}`)
    }

    report.outputs.deployed = newFleet
    if (plan.pauses) {
      records[stableFleet] = { ...records[stableFleet], role: 'live' }
      await recordAfterTraffic(ctx, report, stableFleet, records[stableFleet])
      describeFleetsAndRoutes(report, found, { routes, records })
      const last = plan.steps[plan.steps.length - 1].weight
      return finish(report, ctx, 'paused', `Canary of ${config.version} paused at ${last}% on ${targetGroupName(newFleet)}; run promote to continue, or rollback`)
    }
    records[newFleet] = { ...records[newFleet], role: 'live' }
    records[stableFleet] = { ...records[stableFleet], role: 'previous' }
    await Promise.all([recordAfterTraffic(ctx, report, newFleet, records[newFleet]), recordAfterTraffic(ctx, report, stableFleet, records[stableFleet])])
    Object.assign(report.outputs, { live: newFleet, idle: stableFleet, previous: stableFleet })
    describeFleetsAndRoutes(report, found, { routes, records })
    return finish(report, ctx, 'succeeded', `Deployed ${config.version} to ${targetGroupName(newFleet)}; it now takes all traffic, ${targetGroupName(stableFleet)} keeps running for a rollback`)
  } catch (error) {
    if (progress.trafficMoved) throw error // runTrafficSteps restores; reaching here means it could not say so
    // Before traffic moved every failure ends the same way: nothing reached the new fleet.
    await recording.catch(() => undefined)
    const sent = progress.commandIds.length > 0
    records[newFleet] = sent ? { ...records[newFleet], role: 'failed' } : found.fleets[newFleet].record
    if (sent) await record(ctx, newFleet, records[newFleet]).catch((e) => ctx.log.warning(`Could not record the failed deploy: ${(e as Error).message}`))
    else if (recordedDeploying) await restoreRecord(ctx, newFleet, found.fleets[newFleet].record)
    describeFleetsAndRoutes(report, found, { routes, records })
    const message = ctx.signal.aborted ? 'The run was cancelled before traffic moved; no traffic was moved' : failureMessage(error)
    report.failure ??= { what: message, at: ctx.clock.now(), step: 0, weight: 0 }
    return finish(report, ctx, 'failed', message)
  } finally {
    // Traffic that could not be restored stays the post step's job, and so does the lock.
    if (!unresolved) {
      await releaseLock(ctx.clients.elb, lockArn, ctx.run).catch((e) => ctx.log.warning(`Could not release the deploy lock: ${(e as Error).message}`))
    }
    progress.finished = !unresolved
    ctx.saveProgress({ ...progress })
  }
}

function healthBudget(config: Config, untilDeadlineMs: number): number {
  if (untilDeadlineMs <= 0) {
    throw new DeployError(`The operation's timeout (${Math.round(config.timeoutMs / 60_000)}m) was reached before the health check; no traffic was moved: raise timeout`)
  }
  return Math.min(config.healthTimeoutMs, untilDeadlineMs)
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

async function restoreRecord(ctx: RunContext, arn: string, before: FleetRecord): Promise<void> {
  const tags = tagsFromRecord(before)
  const written = [TAG.version, TAG.role, TAG.deployedAt, TAG.deployedBy].filter((key) => !(key in tags))
  await writeTags(ctx.clients.elb, arn, tags).catch(() => undefined)
  await removeTags(ctx.clients.elb, arn, written).catch(() => undefined)
}

/** The idle fleet takes the deploy; a canary in progress or split routes must be resolved first. */
export function chooseIdleFleet(found: Discovery): { newFleet: string; stableFleet: string } {
  const { traffic } = found
  if (!traffic.percent) {
    throw new DeployError(
      `The routes disagree (${traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}); a deploy was interrupted: run rollback, then deploy`
    )
  }
  if (traffic.mixed || !traffic.live || !traffic.idle) {
    throw new DeployError(`A canary is in progress (${describeWeights(traffic.percent)}); run promote to finish it or rollback to undo it, then deploy`)
  }
  return { newFleet: traffic.idle, stableFleet: traffic.live }
}

function logPlan(ctx: RunContext, plan: PlanReport, config: Config): void {
  ctx.log.info(`Plan: deploy ${config.version} to ${targetGroupName(plan.newFleet)} (${plan.instanceIds.length} instances: ${plan.instanceIds.slice(0, 10).join(', ')}${plan.instanceIds.length > 10 ? ', …' : ''})`)
  plan.steps.forEach((step, i) => ctx.log.info(`  step ${i + 1}: ${step.weight}% of traffic on ${targetGroupName(plan.newFleet)}, held ${Math.round(step.holdMs / 1000)}s`))
  if (plan.pauses) ctx.log.info('  then pause for a promote')
  ctx.log.info(`  on failure: restore ${Object.values(plan.restore).map(describeWeights).join('; ')}`)
  ctx.log.info(`  checks during each hold: ${plan.checks.join(', ')}`)
}
