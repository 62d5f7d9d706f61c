import { rereadRoutes, type Route } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import { LockLostError } from '../config/errors.js'
import type { Config } from '../config/inputs.js'
import { type CanaryStep, splitWeights } from '../plan/deploy-plan.js'
import { pairWeights, type Pair, type Weights } from '../plan/forward-action.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { RunReport, TimelineEntry } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import type { HoldCheck } from './checks/check.js'
import { holdStep } from './hold.js'
import { restoreTraffic } from './restore.js'
import { assertUnchanged, type Guard, setWeights, TrafficChangedError } from './shift.js'

export interface StepsRun {
  routes: Route[]
  pair: Pair
  newFleet: string
  stableFleet: string
  steps: CanaryStep[]
  checks: HoldCheck[]
  /** Weights written back when a check fails: all traffic on the stable fleet. */
  restore: Record<string, Weights>
  /** Weights written back when the run is cancelled; defaults to `restore`. */
  cancelRestore?: Record<string, Weights>
  instanceIds: string[]
  deadline: number
  /** Number of the first step, so that a promote continues the deploy's numbering. */
  firstStepNumber: number
  /**
   * The new fleet already takes this share (a paused canary): it is looked at where it stands
   * before it gets more, and a failed look restores like a failed step.
   */
  lookFirstAt?: number
  /** Either group has target-level stickiness (group stickiness then cannot be turned off). */
  targetSticky: boolean
  /** Every change to AWS goes through it: it refuses once another run holds the pair. */
  guard: Guard
  /** Reads the lock: throws LockLostError when another run took the pair over. */
  confirmHeld(): Promise<void>
  /**
   * Told before each write, with the weights on each route before and after it (the post step then
   * knows what this run may have left), and after a verified restore with `moved` false.
   */
  onTrafficMoved(moved: boolean, weights?: { before: Record<string, Weights>; after: Record<string, Weights> }): void
  /**
   * Told once a step failed (not a cancel), before anything is put back: from here on the run ends
   * with traffic on `restore`, and so must its post step should the runner die.
   */
  onStepFailed?(restore: Record<string, Weights>): void
}

export type StepsOutcome =
  | { kind: 'completed'; routes: Route[] }
  | { kind: 'failed'; routes: Route[]; restored: boolean; cancelled: boolean; message: string }
  /**
   * Someone else acted: another run took the pair over (`lock`) or traffic was changed by someone
   * else (`change`). Their traffic wins: this run wrote nothing more, and restores nothing.
   */
  | { kind: 'interrupted'; routes: Route[]; by: 'lock' | 'change'; message: string }

/**
 * Moves traffic to the new fleet step by step, holding each step while the checks watch it, and
 * puts it all back on the stable fleet at the first failed check, at the deadline, or when the run
 * is cancelled. Every hold ends by reading the lock and the weights again, and every write starts
 * from the route as read just before it: a rollback that took the pair over, or a person who
 * changed the weights, is never overwritten. It never returns with traffic half-shifted without
 * saying so in the outcome.
 */
export async function runTrafficSteps(
  config: Pick<Config, 'stickiness' | 'autoRollback'>,
  ctx: RunContext,
  run: StepsRun,
  report: RunReport
): Promise<StepsOutcome> {
  let routes = run.routes
  let stepNumber = run.firstStepNumber
  let weight = run.lookFirstAt ?? 0
  let moved = run.lookFirstAt !== undefined
  // What this run believes each route's weights are: what it found, then what it last wrote.
  let expected: Record<string, Weights> = Object.fromEntries(routes.map((r) => [r.arn, pairWeights(r, run.pair)]))
  const hold = (step: number, holdMs: number, entry: TimelineEntry) =>
    holdStep(
      run.checks,
      { ...subject(run), step, weight, startedAt: entry.startedAt, holdMs },
      { clock: ctx.clock, signal: ctx.signal, deadline: run.deadline, warnings: report.warnings, log: ctx.log }
    )
  const write = async (target: Record<string, Weights>) => {
    // Told before the write: if the runner kills us mid-write, post still knows what to put back.
    moved = true
    run.onTrafficMoved(true, { before: expected, after: target })
    routes = await setWeights(ctx.clients.elb, routes, {
      pair: run.pair,
      target,
      stickiness: config.stickiness,
      targetSticky: run.targetSticky,
      expected,
      guard: run.guard,
      log: ctx.log,
      warnings: report.warnings
    })
    expected = target
  }
  // The lock and the weights once more: a rollback or a person may have acted during the hold.
  // Both are reads of the same moment, so they go out together; a lost lock is what the run hears
  // first, whatever else failed with it (it decides that this run leaves traffic alone). The
  // weights read are what the run reports either way: the other run may already have moved them.
  const stillOurs = async () => {
    const [held, now] = await Promise.allSettled([run.confirmHeld(), rereadRoutes(ctx.clients.elb, routes)])
    if (now.status === 'fulfilled') routes = now.value
    if (held.status === 'rejected') throw held.reason
    if (now.status === 'rejected') throw now.reason
    assertUnchanged(routes, run.pair, expected)
  }
  try {
    if (run.lookFirstAt !== undefined) {
      // A canary already failing its checks gets no more traffic: it goes straight back to stable.
      const entry = timelineEntry(report, 0, weight, ctx.clock.now())
      const findings = await hold(0, 0, entry)
      entry.checks = findings.checks
      if (findings.failure) {
        entry.outcome = 'failed'
        stepNumber = 0
        return await fail(findings.failure, false)
      }
      report.timeline.pop()
    }
    for (const step of run.steps) {
      // A cancel must stop the next shift even when no hold sleeps between steps (step-wait 0).
      ctx.signal.throwIfAborted()
      weight = step.weight
      const target = splitWeights(run.newFleet, run.stableFleet, step.weight)
      const { findings, entry } = await ctx.log.group(
        `Step ${stepNumber}: ${describeWeights(target)}, held for ${Math.round(step.holdMs / 1000)}s`,
        async () => {
          await write(everyRoute(routes, target))
          const entry = timelineEntry(report, stepNumber, step.weight, ctx.clock.now())
          ctx.signal.throwIfAborted()
          return { findings: await hold(stepNumber, step.holdMs, entry), entry }
        }
      )
      entry.heldMs = ctx.clock.now() - entry.startedAt
      entry.checks = findings.checks
      if (findings.failure) {
        entry.outcome = 'failed'
        return await fail(findings.failure, false)
      }
      await stillOurs()
      ctx.log.info(`Step ${stepNumber} held: ${findings.checks.join('; ')}`)
      stepNumber++
    }
    return { kind: 'completed', routes }
  } catch (error) {
    const interrupted = interruption(error, ctx.signal)
    if (interrupted) return stop(interrupted)
    const cancelled = ctx.signal.aborted
    const last = report.timeline[report.timeline.length - 1]
    if (last && last.step === stepNumber) {
      last.heldMs = ctx.clock.now() - last.startedAt
      last.outcome = cancelled ? 'cancelled' : 'failed'
    }
    const what = cancelled ? 'the run was cancelled' : `error while shifting traffic: ${(error as Error).message}`
    return await fail(what, cancelled)
  }

  /** Another run or a person acted: leave their traffic as it is, say so. */
  function stop(error: LockLostError | TrafficChangedError): StepsOutcome {
    const by = error instanceof LockLostError ? 'lock' : 'change'
    if (error instanceof TrafficChangedError) routes = error.routes
    const last = report.timeline[report.timeline.length - 1]
    if (last && last.step === stepNumber && last.outcome === 'held') last.heldMs = ctx.clock.now() - last.startedAt
    report.failure = { what: error.message, at: ctx.clock.now(), step: stepNumber, weight }
    ctx.log.error(error.message)
    report.warnings.push(error.message)
    // This run wrote nothing after the other party acted: the post step must not write either.
    run.onTrafficMoved(false)
    return { kind: 'interrupted', routes, by, message: error.message }
  }

  async function fail(what: string, cancelled: boolean): Promise<StepsOutcome> {
    report.failure = { what, at: ctx.clock.now(), step: stepNumber, weight }
    if (!cancelled) run.onStepFailed?.(run.restore)
    ctx.log.error(`Step ${stepNumber} (${weight}% on ${targetGroupName(run.newFleet)}) failed: ${what}`)
    if (!moved) return { kind: 'failed', routes, restored: false, cancelled, message: what }
    if (!config.autoRollback) {
      const message = `${what}; auto-rollback is off, so ${weight}% of traffic stays on ${targetGroupName(run.newFleet)}: run rollback to undo`
      ctx.log.error(message)
      report.warnings.push(message)
      return { kind: 'failed', routes, restored: false, cancelled, message }
    }
    const restore = cancelled ? (run.cancelRestore ?? run.restore) : run.restore
    try {
      run.onTrafficMoved(true, { before: expected, after: restore })
      routes = await restoreTraffic(
        ctx,
        routes,
        { pair: run.pair, restore, targetSticky: run.targetSticky, expected, guard: run.guard },
        report.warnings
      )
    } catch (error) {
      const interrupted = interruption(error, undefined)
      if (interrupted) return stop(interrupted)
      const message = `${what}; restoring the weights FAILED (${(error as Error).message}): traffic may still reach ${targetGroupName(run.newFleet)}, run rollback now`
      ctx.log.error(message)
      report.warnings.push(message)
      // Report the weights as they are, not as the last good read had them.
      routes = await rereadRoutes(ctx.clients.elb, routes).catch(() => routes)
      return { kind: 'failed', routes, restored: false, cancelled, message }
    }
    run.onTrafficMoved(false)
    const restored = timelineEntry(report, 0, weightOn(restore, run.newFleet), ctx.clock.now())
    Object.assign(restored, { outcome: 'restored', checks: ['starting weights written and read back'] })
    return { kind: 'failed', routes, restored: true, cancelled, message: what }
  }
}

/** The error, or the abort's reason, when it means that someone else acted. */
function interruption(
  error: unknown,
  signal: AbortSignal | undefined
): LockLostError | TrafficChangedError | undefined {
  for (const e of [error, signal?.aborted ? signal.reason : undefined]) {
    if (e instanceof LockLostError || e instanceof TrafficChangedError) return e
  }
  return undefined
}

function subject(run: StepsRun) {
  return { newFleet: run.newFleet, stableFleet: run.stableFleet, instanceIds: run.instanceIds }
}

function timelineEntry(report: RunReport, step: number, weight: number, startedAt: number): TimelineEntry {
  const entry: TimelineEntry = { step, weight, startedAt, heldMs: 0, outcome: 'held', checks: [] }
  report.timeline.push(entry)
  return entry
}

function weightOn(restore: Record<string, Weights>, fleet: string): number {
  const first = Object.values(restore)[0] ?? {}
  const total = Object.values(first).reduce((a, b) => a + b, 0)
  return total === 0 ? 0 : Math.round(((first[fleet] ?? 0) / total) * 100)
}

function everyRoute(routes: Route[], weights: Weights): Record<string, Weights> {
  return Object.fromEntries(routes.map((r) => [r.arn, weights]))
}
