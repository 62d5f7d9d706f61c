import { rereadRoutes } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { type CanaryStep, splitWeights } from '../plan/deploy-plan.js'
import type { Pair, Weights } from '../plan/forward-action.js'
import type { Route } from '../aws/elbv2.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { RunReport, TimelineEntry } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import type { HoldCheck } from './checks/check.js'
import { holdStep } from './hold.js'
import { restoreTraffic } from './restore.js'
import { setWeights } from './shift.js'

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
  /** Whether this run still holds the lock; when another run took it over, hands off traffic. */
  stillHoldsLock?: () => Promise<boolean>
  /** Told before the first write (the post step must then restore) and after a verified restore. */
  onTrafficMoved(moved: boolean): void
}

export type StepsOutcome =
  | { kind: 'completed'; routes: Route[] }
  | { kind: 'failed'; routes: Route[]; restored: boolean; cancelled: boolean; message: string }

/**
 * Moves traffic to the new fleet step by step, holding each step while the checks watch it, and
 * puts it all back on the stable fleet at the first failed check, at the deadline, or when the run
 * is cancelled. It never returns with traffic half-shifted without saying so in the outcome.
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
  const hold = (step: number, holdMs: number, entry: TimelineEntry) =>
    holdStep(
      run.checks,
      { ...subject(run), step, weight, startedAt: entry.startedAt, holdMs },
      { clock: ctx.clock, signal: ctx.signal, deadline: run.deadline, log: ctx.log }
    )
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
      if (run.stillHoldsLock && !(await run.stillHoldsLock())) {
        // Someone (a rollback) took the pair over: its weights win, this run must not touch them.
        const message =
          'another run took over the deploy lock (e.g. a rollback); this run stopped without changing traffic further'
        report.failure = { what: message, at: ctx.clock.now(), step: stepNumber, weight }
        ctx.log.error(message)
        return { kind: 'failed', routes, restored: false, cancelled: false, message }
      }
      weight = step.weight
      const target = splitWeights(run.newFleet, run.stableFleet, step.weight)
      // Told before the write: if the runner kills us mid-write, post still restores.
      moved = true
      run.onTrafficMoved(true)
      const { findings, entry } = await ctx.log.group(
        `Step ${stepNumber}: ${describeWeights(target)}, held for ${Math.round(step.holdMs / 1000)}s`,
        async () => {
          routes = await setWeights(
            ctx.clients.elb,
            routes,
            run.pair,
            everyRoute(routes, target),
            config.stickiness,
            ctx.log
          )
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
      ctx.log.info(`Step ${stepNumber} held: ${findings.checks.join('; ')}`)
      stepNumber++
    }
    return { kind: 'completed', routes }
  } catch (error) {
    const cancelled = ctx.signal.aborted
    const last = report.timeline[report.timeline.length - 1]
    if (last && last.step === stepNumber) {
      last.heldMs = ctx.clock.now() - last.startedAt
      last.outcome = cancelled ? 'cancelled' : 'failed'
    }
    const what = cancelled ? 'the run was cancelled' : `error while shifting traffic: ${(error as Error).message}`
    return await fail(what, cancelled)
  }

  async function fail(what: string, cancelled: boolean): Promise<StepsOutcome> {
    report.failure = { what, at: ctx.clock.now(), step: stepNumber, weight }
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
      routes = await restoreTraffic(ctx, routes, { pair: run.pair, restore }, report.warnings)
    } catch (error) {
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
