// The beginning and the endings every operation shares: the report and deadline, the lock and
// the state that crosses to the post step, and the few ways a run can end. Written once, so that
// each operation's own file is only its story.
import { routeLabel, targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { pairWeights, type Weights } from '../plan/forward-action.js'
import type { Route } from '../aws/elbv2.js'
import { averagePercent, toPercent } from '../plan/traffic-state.js'
import { LockLostError } from '../config/errors.js'
import { recordsForTraffic } from '../plan/records-for-traffic.js'
import { claimThePair, PlanAgainError } from '../records/claim-pair.js'
import type { FleetRecord } from '../records/fleet-records.js'
import { lockParameterName } from '../records/lock-claim.js'
import type { PairLock } from '../records/parameter-lock.js'
import { recordAfterTraffic, recordFleetsAfterTraffic } from '../records/write-records.js'
import { type FleetReport, newReport, type Result, type RouteReport, type RunReport } from '../report/report.js'
import { withHeartbeat } from '../runtime/clock.js'
import type { RunContext } from '../runtime/context.js'
import type { Progress } from '../runtime/progress.js'
import type { PreviewRoute } from '../traffic/preview-route.js'
import type { Guard } from '../traffic/shift.js'
import type { StepsOutcome } from '../traffic/steps.js'
import { type Discovery, type FleetView, pairTargetSticky } from './discover.js'

/** One operation under way: its report, its deadline, and how it ends. */
export class OperationRun {
  readonly report: RunReport
  readonly deadline: number

  constructor(
    readonly config: Config,
    readonly ctx: RunContext
  ) {
    this.report = newReport(config, ctx.clock.now(), ctx.run.url)
    this.deadline = this.report.startedAt + config.timeoutMs
  }

  /** Ends the run: the result, the one line that says what happened, and the log's last word. */
  finish(result: Result, headline: string): RunReport {
    Object.assign(this.report, { result, headline, finishedAt: this.ctx.clock.now() })
    const line = `Result: ${result}. ${headline}`
    // A rollback that put traffic back did what it was asked: only an undone deploy or promote is an error.
    const asked = this.report.operation === 'rollback' && result === 'rolled-back'
    if (result === 'failed' || (result === 'rolled-back' && !asked)) this.ctx.log.error(line)
    else this.ctx.log.info(line)
    return this.report
  }

  /** Ends the run with the fleets and routes as `found` had them and as they are `after`. */
  end(found: Discovery, after: FleetsAfter, result: Result, headline: string): RunReport {
    describeFleetsAndRoutes(this.report, found, after)
    return this.finish(result, headline)
  }

  /** Warnings about the plan go to the log and the summary, in the dry run too. */
  warnAboutPlan(warnings: string[]): void {
    for (const warning of warnings) {
      this.ctx.log.warning(`Plan: ${warning}`)
      this.report.warnings.push(warning)
    }
  }

  /** A dry run ends having read everything and changed nothing. */
  dryRun(found: Discovery, headline: string): RunReport {
    return this.end(found, { routes: found.routes }, 'unchanged', headline)
  }
}

/** The fleets and routes after a run: the routes as read last, records as written. */
export interface FleetsAfter {
  routes: Route[]
  records?: Record<string, FleetRecord>
  fleets?: Record<string, FleetView>
}

/** Fills the fleets and routes tables from the state before and after the run. */
export function describeFleetsAndRoutes(report: RunReport, before: Discovery, after: FleetsAfter): void {
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
      instances: (after.fleets ?? before.fleets)[arn].instances,
      ...(fleet.autoScaling ? { autoScaling: fleet.autoScaling } : {})
    }
  })
  report.routes = before.routes.map((route): RouteReport => {
    const afterRoute = after.routes.find((r) => r.arn === route.arn) ?? route
    return {
      arn: route.arn,
      label: routeLabel(route.arn),
      before: toPercent(pairWeights(route, pair)),
      after: toPercent(pairWeights(afterRoute, pair))
    }
  })
  report.outputs.weights = toPercent(pairWeights(after.routes[0], pair))
}

function roleFromWeight(percent: number): string {
  return percent === 100 ? 'live' : percent === 0 ? 'idle' : 'canary'
}

/** What a run that changes traffic claims, and what its post step must know to undo it. */
export interface PairClaim {
  operation: 'deploy' | 'promote' | 'rollback' | 'retire'
  newFleet?: string
  stableFleet?: string
  /** Weights the post step writes back should this run die with traffic moved. */
  restore?: Record<string, Weights>
  /** The new fleet already takes traffic as the run starts (a paused canary). */
  trafficMoved: boolean
  /** Take the lock even from a live holder: a rollback is how a person stops the bleeding. */
  force?: boolean
  /** What the post step records should this run die before it records anything itself. */
  records?: Record<string, FleetRecord>
  /** The preview route of the new fleet: closed at every ending, unless the run pauses with it. */
  preview?: PreviewRoute
}

/** The pair while this run holds it. */
export interface HeldPair {
  readonly lock: PairLock
  /**
   * The run's context while it holds the pair: its clock renews the lock's lease at every wait,
   * and its signal aborts as soon as the lock is found taken by another run.
   */
  readonly ctx: RunContext
  /** Makes one change to AWS, only while this run still holds the pair (parameter-lock.ts). */
  guard: Guard
  /** Reads the lock; throws LockLostError once another run took the pair over. */
  confirmHeld(): Promise<void>
  /** Every command id sent so far: the post step cancels them should this run die. */
  commandsSent(commandIds: string[]): void
  /** Traffic moved (or was put back), and the weights each route may show before and after the write. */
  trafficMoved(moved: boolean, weights?: { before: Record<string, Weights>; after: Record<string, Weights> }): void
  /** What the post step records should this run die from here on. */
  recordsIfCut(records: Record<string, FleetRecord>): void
  /** What the post step writes back should this run die with traffic moved. */
  restoreIfCut(restore: Record<string, Weights>): void
  /** Auto Scaling processes this run has suspended now (none: all resumed): the post step resumes them. */
  processesSuspended(group: string, processes: string[]): void
  /** The preview rules open now: the post step removes them should this run die. */
  previewOpened(ruleArns: string[]): void
  /** The new fleet keeps all traffic whatever happens next: the post step leaves it alone. */
  trafficSettled(): void
  /** The run pauses with the preview open, for the promote or rollback that ends it to close. */
  keepPreviewOpen(): void
  readonly hasTrafficMoved: boolean
  readonly hasSentCommands: boolean
  /** Traffic could not be put back: the post step must try again, and keeps the lock for it. */
  leaveToPostStep(): void
}

/**
 * Takes the pair's lock, saves what the post step needs, runs `work`, and whatever happens in it
 * releases the lock (if it is still this run's) and marks the run finished, unless traffic is left
 * for the post step to put back: then the lock stays too, so that no other run moves traffic in
 * between. A run that lost the lock ends finished: its post step leaves everything to the holder.
 */
export async function withThePair(
  run: OperationRun,
  found: Discovery,
  claim: PairClaim,
  work: (pair: HeldPair) => Promise<RunReport>
): Promise<RunReport> {
  const { ctx, config } = run
  // Saved before the lock is created: a runner killed between the create and the next save would
  // otherwise leave a post step that knows nothing of the lock, and the pair blocked for a lease.
  // Nothing else is in it yet, so that post step only releases a claim it finds to be its own.
  const taking = progressBeforeTheLock(run, found, claim)
  ctx.saveProgress(structuredClone(taking))
  let lock: PairLock
  try {
    lock = await claimThePair(ctx, config, found, claim.operation, claim.force === true)
  } catch (error) {
    // Not taken (another run holds it, or traffic moved meanwhile and the run plans again).
    ctx.saveProgress({ ...taking, finished: true })
    throw error
  }
  const lost = new AbortController()
  const signal = AbortSignal.any([ctx.signal, lost.signal])
  // Every wait of the run renews the lease; a renewal that finds the lock taken stops the run
  // where it waits (commands are cancelled, holds end) instead of at its next change.
  const clock = withHeartbeat(ctx.clock, async () => {
    await lock.keepAlive()
    if (lock.lost && !lost.signal.aborted) lost.abort(lock.lostError)
  })
  const progress: Progress = {
    ...taking,
    newFleet: claim.newFleet,
    stableFleet: claim.stableFleet,
    restore: claim.restore,
    expected: Object.fromEntries(found.traffic.routes.map(({ route, weights }) => [route.arn, [{ ...weights }]])),
    trafficMoved: claim.trafficMoved,
    records: claim.records,
    lockTaken: true,
    targetSticky: pairTargetSticky(found)
  }
  const save = () => ctx.saveProgress(structuredClone(progress))
  save()
  let unresolved = false
  let keepPreview = false
  const pair: HeldPair = {
    lock,
    ctx: { ...ctx, clock, signal },
    guard: (what, change) => lock.guard(what, change),
    confirmHeld: () => lock.confirm(),
    commandsSent: (commandIds) => {
      progress.commandIds = [...commandIds]
      save()
    },
    trafficMoved: (moved, weights) => {
      progress.trafficMoved = moved
      if (weights) {
        progress.expected = Object.fromEntries(
          Object.keys(weights.after).map((arn) => [arn, [weights.before[arn], weights.after[arn]].filter(Boolean)])
        )
      }
      save()
    },
    recordsIfCut: (records) => {
      progress.records = records
      save()
    },
    restoreIfCut: (restore) => {
      progress.restore = restore
      save()
    },
    processesSuspended: (group, processes) => {
      progress.suspended = processes.length > 0 ? { group, processes: [...processes] } : undefined
      save()
    },
    previewOpened: (ruleArns) => {
      progress.previewRuleArns = [...ruleArns]
      save()
    },
    trafficSettled: () => {
      // Nothing to put back or to record failed from here on: the new fleet is live.
      Object.assign(progress, { trafficMoved: false, settled: true, records: undefined })
      save()
    },
    keepPreviewOpen: () => {
      keepPreview = true
    },
    get hasTrafficMoved() {
      return progress.trafficMoved
    },
    get hasSentCommands() {
      return progress.commandIds.length > 0
    },
    leaveToPostStep: () => {
      unresolved = true
    }
  }
  try {
    return await work(pair)
  } finally {
    // The preview only answers requests that ask for it, but it must not outlive the run that
    // shows the new fleet: every ending closes it, a paused canary's excepted. A run that lost the
    // pair leaves it to the run that holds it now.
    if (claim.preview && !keepPreview && !lock.lost) {
      await pair
        .guard('Closing the preview', () => claim.preview!.close(run.report.warnings))
        .catch((e) => ctx.log.warning(`Could not close the preview: ${(e as Error).message}`))
      progress.previewRuleArns = claim.preview.ruleArns.length ? claim.preview.ruleArns : undefined
    }
    if (!unresolved && !lock.lost) {
      await lock.release().catch((e) => ctx.log.warning(`Could not release the deploy lock: ${(e as Error).message}`))
    }
    progress.finished = !unresolved || lock.lost
    save()
  }
}

/** What the post step needs while the run is only taking the lock: the lock's name, nothing to undo. */
function progressBeforeTheLock(run: OperationRun, found: Discovery, claim: PairClaim): Progress {
  const { config, ctx } = run
  return {
    region: config.region,
    runId: ctx.run.id,
    operation: claim.operation,
    pair: [...found.traffic.pair],
    listenerArns: config.listenerArns,
    ruleArns: config.ruleArns,
    trafficMoved: false,
    commandIds: [],
    lockName: lockParameterName(config.parameterPrefix, found.traffic.pair),
    lockTaken: false,
    autoRollback: config.autoRollback,
    finished: false
  }
}

/** The fleets a traffic shift moves between, and their records as this run leaves them. */
export interface ShiftedFleets {
  newFleet: string
  stableFleet: string
  records: Record<string, FleetRecord>
}

/**
 * The steps failed: the new fleet is recorded failed, and the run ends rolled back when the
 * starting weights were restored, or failed (loudly, with the lock left to the post step) when not.
 */
export async function endAfterFailedSteps(
  run: OperationRun,
  pair: HeldPair,
  found: Discovery,
  fleets: ShiftedFleets,
  outcome: Extract<StepsOutcome, { kind: 'failed' }>,
  what: string
): Promise<RunReport> {
  const { newFleet, stableFleet, records } = fleets
  if (!outcome.restored && run.config.autoRollback) pair.leaveToPostStep()
  records[newFleet] = { ...records[newFleet], role: 'failed' }
  records[stableFleet] = { ...records[stableFleet], role: 'live' }
  await recordAfterTraffic(pair.ctx, pair.guard, run.report.warnings, newFleet, records[newFleet]).catch(
    ignoreLostLock(run)
  )
  const next = outcome.restored
    ? `all traffic is back on ${targetGroupName(stableFleet)}`
    : 'traffic was NOT restored: run rollback'
  const how = outcome.restored ? 'rolled back' : 'failed'
  return run.end(
    found,
    { routes: outcome.routes, records },
    outcome.restored ? 'rolled-back' : 'failed',
    `${what} ${how}: ${outcome.message}; ${next}`
  )
}

/**
 * Someone else acted during the steps, and their traffic stands. Another run that took the lock
 * over writes the records too; after a person's change this run, still holding the lock, records
 * where traffic now is, so that the next run (a rollback above all) is not misled.
 */
export async function endAfterInterruption(
  run: OperationRun,
  pair: HeldPair,
  found: Discovery,
  fleets: ShiftedFleets,
  outcome: Extract<StepsOutcome, { kind: 'interrupted' }>,
  what: string
): Promise<RunReport> {
  let records = fleets.records
  if (outcome.by === 'change') {
    const truthful = recordsForTraffic(outcome.routes, found.traffic.pair, fleets)
    await recordFleetsAfterTraffic(
      pair.ctx,
      pair.guard,
      run.report.warnings,
      found.traffic.pair.map((arn) => [arn, truthful[arn]])
    ).catch(ignoreLostLock(run))
    records = truthful
  }
  const after =
    outcome.by === 'lock' ? 'the run that holds the pair now decides' : 'run status, then promote or rollback'
  return run.end(found, { routes: outcome.routes, records }, 'failed', `${what} stopped: ${outcome.message}; ${after}`)
}

/** How a run ends, when a step after the records (the contract) decides it. */
export interface Ending {
  result: Result
  headline: string
}

/**
 * The new fleet took all traffic: it is live, the old one previous, kept for a rollback. `after`
 * runs once that is recorded (contract-commands), and may end the run otherwise.
 */
export async function endWithNewFleetLive(
  run: OperationRun,
  pair: HeldPair,
  found: Discovery,
  fleets: ShiftedFleets,
  routes: Route[],
  headline: string,
  after?: () => Promise<Ending | undefined>
): Promise<RunReport> {
  const { newFleet, stableFleet, records } = fleets
  records[newFleet] = { ...records[newFleet], role: 'live' }
  records[stableFleet] = { ...records[stableFleet], role: 'previous' }
  const warnings = run.report.warnings
  await recordFleetsAfterTraffic(pair.ctx, pair.guard, warnings, [
    [newFleet, records[newFleet]],
    [stableFleet, records[stableFleet]]
  ]).catch(ignoreLostLock(run))
  Object.assign(run.report.outputs, { live: newFleet, idle: stableFleet, previous: stableFleet, deployed: newFleet })
  const ending = (await after?.()) ?? { result: 'succeeded', headline }
  return run.end(found, { routes, records }, ending.result, ending.headline)
}

/** A record write refused because another run took the pair meanwhile: said, not thrown. */
function ignoreLostLock(run: OperationRun) {
  return (error: unknown) => {
    if (!(error instanceof LockLostError)) throw error
    run.report.warnings.push(`${error.message}; this run wrote no records after that`)
    run.ctx.log.warning(error.message)
  }
}

/**
 * Runs an operation, and once more (twice at most) when traffic moved between its first look and
 * its lock: what it decided was decided on weights that no longer hold.
 */
export async function planningAgainOnChange(
  ctx: RunContext,
  operation: (ctx: RunContext) => Promise<RunReport>
): Promise<RunReport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt === 1 ? ctx : { ...ctx, routesAtStart: undefined })
    } catch (error) {
      if (!(error instanceof PlanAgainError) || attempt >= 3) throw error
      ctx.log.warning(`${error.message}: planning again from what AWS shows now`)
    }
  }
}
