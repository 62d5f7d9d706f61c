import { targetGroupName } from './arn.js'
import type { Config } from './config.js'
import type { RunContext } from './context.js'
import { type Pair, type Route, stickinessEnabled, type Weights } from './forward-action.js'
import { readRoutes } from './load-balancer.js'
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
  /** Weights written back when a check fails: all traffic on the stable fleet. */
  restore: Record<string, Weights>
  /** Weights written back when the run is cancelled; defaults to `restore`. */
  cancelRestore?: Record<string, Weights>
  instanceIds: string[]
  deadline: number
  /** Number of the first step, so that a promote continues the deploy's numbering. */
  firstStepNumber: number
  /** Whether this run still holds the lock; when another run took it over, hands off traffic. */
  stillHoldsLock?: () => Promise<boolean>
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
      // A cancel must stop the next shift even when no hold sleeps between steps (step-wait 0).
      ctx.signal.throwIfAborted()
      if (run.stillHoldsLock && !(await run.stillHoldsLock())) {
        // Someone (a rollback) took the pair over: its weights win, this run must not touch them.
        const message = 'another run took over the deploy lock (e.g. a rollback); this run stopped without changing traffic further'
        report.failure = { what: message, at: ctx.clock.now(), step: stepNumber, weight }
        ctx.log.error(message)
        return { kind: 'failed', routes, restored: false, cancelled: false, message }
      }
      weight = step.weight
      const target = splitWeights(run.newFleet, run.stableFleet, step.weight)
      // Saved before the write: if the runner kills us mid-write, post still restores.
      progress.trafficMoved = true
      ctx.saveProgress({ ...progress })
      ctx.log.info(`Step ${stepNumber}: ${describeWeights(target)}, held for ${Math.round(step.holdMs / 1000)}s`)
      routes = await setWeights(ctx.clients.elb, routes, run.pair, everyRoute(routes, target), config.stickiness, ctx.log)
      const entry = { step: stepNumber, weight: step.weight, startedAt: ctx.clock.now(), heldMs: 0, outcome: 'held' as const, checks: [] as string[] }
      report.timeline.push(entry)
      ctx.signal.throwIfAborted()
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
    const restore = cancelled ? (run.cancelRestore ?? run.restore) : run.restore
    try {
      routes = await restoreTraffic(ctx, routes, { pair: run.pair, restore }, report)
    } catch (error) {
      const message = `${what}; restoring the weights FAILED (${(error as Error).message}): traffic may still reach ${targetGroupName(run.newFleet)}, run rollback now`
      ctx.log.error(message)
      report.warnings.push(message)
      // Report the weights as they are, not as the last good read had them.
      routes = await rereadRoutes(ctx, routes).catch(() => routes)
      return { kind: 'failed', routes, restored: false, cancelled, message }
    }
    progress.trafficMoved = false
    ctx.saveProgress({ ...progress })
    report.timeline.push({ step: 0, weight: weightOn(restore, run.newFleet), startedAt: ctx.clock.now(), heldMs: 0, outcome: 'restored', checks: ['starting weights written and read back'] })
    return { kind: 'failed', routes, restored: true, cancelled, message: what }
  }
}

/**
 * Writes the given weights on every route and reads them back. Target group stickiness would keep
 * clients pinned to the fleet being left (on ALB a stickiness cookie outranks the weights), so a
 * restore switches it off, and says so: all traffic is meant to leave that fleet now.
 */
export async function restoreTraffic(
  ctx: Pick<RunContext, 'clients' | 'log'>,
  routes: Route[],
  run: Pick<StepsRun, 'pair' | 'restore'>,
  report?: Pick<RunReport, 'warnings'>
): Promise<Route[]> {
  ctx.log.warning(`Restoring the starting weights on ${routes.length} route${routes.length > 1 ? 's' : ''}`)
  const sticky = routes.some(stickinessEnabled)
  if (sticky) {
    const message = 'Target group stickiness was turned off on the restored routes, so that pinned clients leave the failed fleet; turn it back on when you deploy again'
    ctx.log.warning(message)
    report?.warnings.push(message)
  }
  const restored = await setWeights(ctx.clients.elb, routes, run.pair, run.restore, sticky ? { mode: 'off' } : { mode: 'keep' }, ctx.log)
  ctx.log.info(`Weights restored and verified: ${Object.values(run.restore).map(describeWeights).join('; ')}`)
  return restored
}

async function rereadRoutes(ctx: RunContext, routes: Route[]): Promise<Route[]> {
  return readRoutes(
    ctx.clients.elb,
    routes.filter((r) => r.kind === 'listener').map((r) => r.arn),
    routes.filter((r) => r.kind === 'rule').map((r) => r.arn)
  )
}

function weightOn(restore: Record<string, Weights>, fleet: string): number {
  const first = Object.values(restore)[0] ?? {}
  const total = Object.values(first).reduce((a, b) => a + b, 0)
  return total === 0 ? 0 : Math.round(((first[fleet] ?? 0) / total) * 100)
}

function everyRoute(routes: Route[], weights: Weights): Record<string, Weights> {
  return Object.fromEntries(routes.map((r) => [r.arn, weights]))
}
