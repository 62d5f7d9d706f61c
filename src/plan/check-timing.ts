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

/** The time after a bad answer when an alarm can first say ALARM. */
export function alarmSeesAfterMs(alarm: AlarmTiming, metricsDelayMs: number): number | undefined {
  if (!alarm.periodS) return undefined
  return alarm.periodS * 1000 * Math.max(1, alarm.evaluationPeriods ?? 1) + metricsDelayMs
}

/** The alarms that cannot have seen a step held `stepWaitMs`, one warning each, saying what to change. */
export function alarmTimingWarnings(alarms: AlarmTiming[], stepWaitMs: number, metricsDelayMs: number): string[] {
  return alarms.flatMap((a) => {
    const after = alarmSeesAfterMs(a, metricsDelayMs)
    if (after === undefined || after <= stepWaitMs) return []
    const periods = a.evaluationPeriods ?? 1
    return [
      `alarm ${a.name} needs about ${formatDuration(after)} (period ${formatDuration((a.periodS ?? 0) * 1000)} x ${periods} evaluation period${periods > 1 ? 's' : ''} + metrics-delay ${formatDuration(metricsDelayMs)}) to see a bad answer, longer than step-wait ${formatDuration(stepWaitMs)}: a step can end before this alarm has seen it; raise step-wait to ${formatDuration(after)} or more`
    ]
  })
}

/** Whether anything but target health watches the steps, and whether the judge can judge them. */
export function watchWarnings(t: { stepWaitMs: number; analysis: boolean; alarms: number }): string[] {
  const warnings: string[] = []
  if (t.analysis && t.stepWaitMs === 0) {
    warnings.push(
      'step-wait is 0: the canary judge cannot judge steps that are not held; give step-wait a few minutes, or set canary-analysis: false'
    )
  }
  if (!t.analysis && t.alarms === 0) {
    warnings.push(
      "nothing watches the new fleet's answers during the steps (canary-analysis is off and no alarms are given): only target health can stop a bad release"
    )
  }
  return warnings
}
