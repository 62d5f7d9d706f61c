import { formatDuration } from '../config/duration.js'

// Whether a step held `step-wait` can be seen at all by the checks that watch it. An alarm on
// one-minute data decides only after period x evaluation periods, and CloudWatch publishes that
// data minutes late: a step shorter than that ends before the alarm could have seen it, and a
// deploy would then widen a bad canary with nobody having looked. The plan says so up front.

export interface AlarmTiming {
  name: string
  /** Seconds; absent for composite alarms, whose timing is their children's. */
  periodS?: number
  evaluationPeriods?: number
}

export interface CheckTiming {
  stepWaitMs: number
  metricsDelayMs: number
  /** The canary judge is on. */
  analysis: boolean
  alarms: AlarmTiming[]
}

/** The time after a bad answer when an alarm can first say ALARM. */
export function alarmSeesAfterMs(alarm: AlarmTiming, metricsDelayMs: number): number | undefined {
  if (!alarm.periodS) return undefined
  return alarm.periodS * 1000 * Math.max(1, alarm.evaluationPeriods ?? 1) + metricsDelayMs
}

/** Warnings for the plan (log, summary, dry run), one line each, saying what to change. */
export function checkTimingWarnings(t: CheckTiming): string[] {
  const warnings: string[] = []
  const late = t.alarms
    .map((a) => ({ a, after: alarmSeesAfterMs(a, t.metricsDelayMs) }))
    .filter((x): x is { a: AlarmTiming; after: number } => x.after !== undefined && x.after > t.stepWaitMs)
  for (const { a, after } of late) {
    warnings.push(
      `alarm ${a.name} needs about ${formatDuration(after)} (period ${formatDuration((a.periodS ?? 0) * 1000)} x ${a.evaluationPeriods ?? 1} evaluation period${(a.evaluationPeriods ?? 1) > 1 ? 's' : ''} + metrics-delay ${formatDuration(t.metricsDelayMs)}) to see a bad answer, longer than step-wait ${formatDuration(t.stepWaitMs)}: a step can end before this alarm has seen it; raise step-wait to ${formatDuration(after)} or more`
    )
  }
  if (!t.analysis && t.alarms.length === 0) {
    warnings.push(
      "nothing watches the new fleet's answers during the steps (canary-analysis is off and no alarms are given): only target health can stop a bad release"
    )
  }
  return warnings
}
