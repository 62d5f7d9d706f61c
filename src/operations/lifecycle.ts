// The beginning and the endings every operation shares: the report and deadline, the lock and
// the state that crosses to the post step, and the few ways a run can end. Written once, so that
// each operation's own file is only its story.
import { routeLabel, targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { pairWeights, type Weights } from '../plan/forward-action.js'
import type { Route } from '../aws/elbv2.js'
import { averagePercent, toPercent } from '../plan/traffic-state.js'
import { claimThePair } from '../records/claim-pair.js'
import type { FleetRecord } from '../records/fleet-records.js'
import { acquireLock, holdsLock, lockHolderArn, releaseLock } from '../records/lock.js'
import { recordAfterTraffic } from '../records/write-records.js'
import { lockTtlMs } from '../plan/lock-lease.js'
import { type FleetReport, newReport, type Result, type RouteReport, type RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import type { Progress } from '../runtime/progress.js'
import type { PreviewRoute } from '../traffic/preview-route.js'
import type { StepsOutcome } from '../traffic/steps.js'
import type { Discovery, FleetView } from './discover.js'

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
  /** The preview route of the new fleet: closed at every ending, unless the run pauses with it. */
  preview?: PreviewRoute
}

/** The pair while this run holds it. */
export interface HeldPair {
  readonly lockArn: string
  stillHoldsLock(): Promise<boolean>
  /** Every command id sent so far: the post step cancels them should this run die. */
  commandsSent(commandIds: string[]): void
  trafficMoved(moved: boolean): void
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
 * releases the lock and marks the run finished, unless traffic is left for the post step to put
 * back: then the lock stays too, so that no other run moves traffic in between.
 */
export async function withThePair(
  run: OperationRun,
  found: Discovery,
  claim: PairClaim,
  work: (pair: HeldPair) => Promise<RunReport>
): Promise<RunReport> {
  const { ctx, config } = run
  const lockArn = claim.force ? await forceTheLock(run, found) : await claimThePair(ctx, config, found, claim.operation)
  const progress: Progress = {
    region: config.region,
    runId: ctx.run.id,
    pair: [...found.traffic.pair],
    newFleet: claim.newFleet,
    stableFleet: claim.stableFleet,
    listenerArns: config.listenerArns,
    ruleArns: config.ruleArns,
    restore: claim.restore,
    trafficMoved: claim.trafficMoved,
    commandIds: [],
    lockArn,
    finished: false
  }
  const save = () =>
    ctx.saveProgress({
      ...progress,
      commandIds: [...progress.commandIds],
      ...(progress.previewRuleArns ? { previewRuleArns: [...progress.previewRuleArns] } : {})
    })
  save()
  let unresolved = false
  let keepPreview = false
  const pair: HeldPair = {
    lockArn,
    stillHoldsLock: () => holdsLock(ctx.clients.elb, lockArn, ctx.run),
    commandsSent: (commandIds) => {
      progress.commandIds = [...commandIds]
      save()
    },
    trafficMoved: (moved) => {
      progress.trafficMoved = moved
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
      Object.assign(progress, { trafficMoved: false, settled: true })
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
    // shows the new fleet: every ending closes it, a paused canary's excepted.
    if (claim.preview && !keepPreview) {
      await claim.preview.close(run.report.warnings)
      progress.previewRuleArns = claim.preview.ruleArns.length ? claim.preview.ruleArns : undefined
    }
    if (!unresolved) {
      await releaseLock(ctx.clients.elb, lockArn, ctx.run).catch((e) =>
        ctx.log.warning(`Could not release the deploy lock: ${(e as Error).message}`)
      )
    }
    progress.finished = !unresolved
    save()
  }
}

async function forceTheLock(run: OperationRun, found: Discovery): Promise<string> {
  const lockArn = lockHolderArn(found.traffic.pair)
  await acquireLock(run.ctx.clients.elb, lockArn, run.ctx.run, lockTtlMs(run.config), run.ctx.clock, run.ctx.log, {
    force: true,
    known: found.lock ?? null
  })
  return lockArn
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
  await recordAfterTraffic(run.ctx, run.report.warnings, newFleet, records[newFleet])
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
  found: Discovery,
  fleets: ShiftedFleets,
  routes: Route[],
  headline: string,
  after?: () => Promise<Ending | undefined>
): Promise<RunReport> {
  const { newFleet, stableFleet, records } = fleets
  records[newFleet] = { ...records[newFleet], role: 'live' }
  records[stableFleet] = { ...records[stableFleet], role: 'previous' }
  await Promise.all([
    recordAfterTraffic(run.ctx, run.report.warnings, newFleet, records[newFleet]),
    recordAfterTraffic(run.ctx, run.report.warnings, stableFleet, records[stableFleet])
  ])
  Object.assign(run.report.outputs, { live: newFleet, idle: stableFleet, previous: stableFleet, deployed: newFleet })
  const ending = (await after?.()) ?? { result: 'succeeded', headline }
  return run.end(found, { routes, records }, ending.result, ending.headline)
}
