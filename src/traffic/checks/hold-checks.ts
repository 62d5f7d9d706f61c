import type { Config } from '../../config/inputs.js'
import { watchWarnings } from '../../plan/check-timing.js'
import type { RunReport } from '../../report/report.js'
import type { RunContext } from '../../runtime/context.js'
import { alarmsCheck } from './alarms.js'
import { canaryAnalysisCheck } from './canary-analysis.js'
import type { CheckLook, HoldCheck } from './check.js'
import { targetHealthCheck } from './target-health.js'

type ChecksConfig = Pick<Config, 'alarms' | 'canaryAnalysis' | 'listenerArns' | 'ruleArns'>

/** Every check the run's holds watch, in the order they are looked at and reported. */
export function holdChecks(
  config: ChecksConfig,
  ctx: Pick<RunContext, 'clients' | 'clock' | 'log'>,
  report: Pick<RunReport, 'analysis' | 'warnings'>
): HoldCheck[] {
  const analysis = config.canaryAnalysis
  return [
    alarmsCheck(ctx.clients.cloudwatch, config.alarms, analysis.metricsDelayMs),
    targetHealthCheck(ctx.clients.elb),
    ...(analysis.enabled
      ? [
          canaryAnalysisCheck({
            cloudwatch: ctx.clients.cloudwatch,
            clock: ctx.clock,
            log: ctx.log,
            config: analysis,
            routeArns: [...config.listenerArns, ...config.ruleArns],
            record: (step) => (report.analysis ??= []).push(step),
            warn: (message) => {
              ctx.log.warning(message)
              report.warnings.push(message)
            }
          })
        ]
      : [])
  ]
}

/**
 * What the plan warns about before anything moves: checks that cannot have seen a step as short
 * as step-wait (an alarm on data minutes late), or no check on the answers at all. Asked after
 * the gates, which read what the checks' timing depends on.
 */
export function planWarnings(
  checks: HoldCheck[],
  config: Pick<Config, 'stepWaitMs' | 'alarms' | 'canaryAnalysis'>
): string[] {
  const own = checks.flatMap((check) => check.timingWarnings?.(config.stepWaitMs) ?? [])
  const nobody = watchWarnings({
    stepWaitMs: config.stepWaitMs,
    analysis: config.canaryAnalysis.enabled,
    alarms: config.alarms.length
  })
  return [...own, ...nobody]
}

/** The plan's promise: what each hold will watch, one line per check. */
export function describeChecks(checks: HoldCheck[]): string[] {
  return checks.flatMap((check) => check.describe)
}

/** The gates of every check, side by side: the first that fails, or undefined when all pass. */
export async function firstFailingGate(checks: HoldCheck[]): Promise<CheckLook | undefined> {
  const looks = await Promise.all(checks.flatMap((check) => (check.gate ? [check.gate()] : [])))
  return looks.find((look) => !look.ok)
}
