import { targetGroupName } from './arn.js'
import type { Config } from './config.js'
import type { RunContext } from './context.js'
import type { Pair, Route, Weights } from './forward-action.js'
import { type CanaryStep, splitWeights } from './plan.js'
import type { Progress } from './progress.js'
import type { RunReport } from './report.js'
import { holdStep, setWeights } from './traffic.js'
import { describeWeights } from './traffic-state.js'

export interface StepsRun {
  routes: Route[]
  pair: Pair
  newFleet: string
  stableFleet: string
  steps: CanaryStep[]
  restore: Record<string, Weights>
  instanceIds: string[]
  deadline: number
  /** Number of the first step, so that a promote continues the deploy's numbering. */
  firstStepNumber: number
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
  config: Pick<Config, 'alarms' | 'stickiness' | 'autoRollback'>,
  ctx: RunContext,
  run: StepsRun,
  report: RunReport,
  progress: Progress
): Promise<StepsOutcome> {
  let routes = run.routes
  let stepNumber = run.firstStepNumber
  let weight = 0
  try {
    for (const step of run.steps) {
      weight = step.weight
      const target = splitWeights(run.newFleet, run.stableFleet, step.weight)
      // Saved before the write: if the runner kills us mid-write, post still restores.
      ctx.saveProgress({ ...progress, trafficMoved: true })
      progress.trafficMoved = true
      ctx.log.info(`Step ${stepNumber}: ${describeWeights(target)}, held for ${Math.round(step.holdMs / 1000)}s`)
      routes = await setWeights(ctx.clients.elb, routes, run.pair, everyRoute(routes, target), config.stickiness, ctx.log)
      const entry = { step: stepNumber, weight: step.weight, startedAt: ctx.clock.now(), heldMs: 0, outcome: 'held' as const, checks: [] as string[] }
      report.timeline.push(entry)
      const findings = await holdStep(ctx.clients.elb, ctx.clients.cloudwatch, {
        holdMs: step.holdMs,
        newFleet: run.newFleet,
        instanceIds: run.instanceIds,
        alarms: config.alarms,
        clock: ctx.clock,
        log: ctx.log,
        signal: ctx.signal,
        deadline: run.deadline
      })
      entry.heldMs = ctx.clock.now() - entry.startedAt
      entry.checks = findings.checks
      if (findings.failure) {
        Object.assign(entry, { outcome: 'failed' })
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
      Object.assign(last, { outcome: cancelled ? 'cancelled' : 'failed' })
    }
    const what = cancelled ? 'the run was cancelled' : `error while shifting traffic: ${(error as Error).message}`
    return await fail(what, cancelled)
  }

  async function fail(what: string, cancelled: boolean): Promise<StepsOutcome> {
    report.failure = { what, at: ctx.clock.now(), step: stepNumber, weight }
    ctx.log.error(`Step ${stepNumber} (${weight}% on ${targetGroupName(run.newFleet)}) failed: ${what}`)
    if (!progress.trafficMoved) return { kind: 'failed', routes, restored: false, cancelled, message: what }
    if (!config.autoRollback) {
      const message = `${what}; auto-rollback is off, so ${weight}% of traffic stays on ${targetGroupName(run.newFleet)}: run rollback to undo`
      ctx.log.error(message)
      report.warnings.push(message)
      return { kind: 'failed', routes, restored: false, cancelled, message }
    }
    try {
      routes = await restoreTraffic(ctx, routes, run, config.stickiness)
    } catch (error) {
      const message = `${what}; restoring the weights FAILED (${(error as Error).message}): traffic may still reach ${targetGroupName(run.newFleet)}, run rollback now`
      ctx.log.error(message)
      report.warnings.push(message)
      return { kind: 'failed', routes, restored: false, cancelled, message }
    }
    progress.trafficMoved = false
    ctx.saveProgress({ ...progress })
    report.timeline.push({ step: 0, weight: 0, startedAt: ctx.clock.now(), heldMs: 0, outcome: 'restored', checks: ['starting weights written and read back'] })
    return { kind: 'failed', routes, restored: true, cancelled, message: what }
  }
}

/** Writes the weights the run started from on every route, and reads them back. */
export async function restoreTraffic(ctx: RunContext, routes: Route[], run: Pick<StepsRun, 'pair' | 'restore'>, stickiness: Config['stickiness']): Promise<Route[]> {
  ctx.log.warning(`Restoring the starting weights on ${routes.length} route${routes.length > 1 ? 's' : ''}`)
  const restored = await setWeights(ctx.clients.elb, routes, run.pair, run.restore, stickiness, ctx.log)
  ctx.log.info(`Weights restored and verified: ${Object.values(run.restore).map(describeWeights).join('; ')}`)
  return restored
}

function everyRoute(routes: Route[], weights: Weights): Record<string, Weights> {
  return Object.fromEntries(routes.map((r) => [r.arn, weights]))
}
