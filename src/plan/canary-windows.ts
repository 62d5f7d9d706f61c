import { metricWindow, type MetricWindow } from './canary-metrics.js'

// When the canary judge looks, and at what. Pure: times in, windows and deadlines out.

const MINUTE = 60_000

/**
 * How far before the first shift the stable fleet's own traffic is taken as the baseline for a
 * step that gives the new fleet everything (the last step, or an all-at-once flip): at 100% the
 * stable fleet serves nothing to compare with at the same time, so its most recent minutes with
 * the whole traffic stand in.
 */
export const BASELINE_LOOKBACK_MS = 5 * MINUTE

export interface AnalysisWindows {
  newFleet: MetricWindow
  stable: MetricWindow
  /** The stable fleet is judged on its earlier traffic, not on this step's. */
  stableFromBaseline: boolean
}

/**
 * The new fleet is judged on the minutes of its step (the first of them may hold the end of the
 * step before, the same version at a lower weight). The stable fleet is judged on the same minutes
 * while it has weight; at 100% on the new fleet, on its traffic from BASELINE_LOOKBACK_MS before
 * the first shift up to this step.
 */
export function analysisWindows(
  step: { startedAt: number; weight: number },
  firstShiftAt: number,
  now: number
): AnalysisWindows {
  const newFleet = metricWindow(step.startedAt, now)
  if (step.weight < 100) return { newFleet, stable: newFleet, stableFromBaseline: false }
  return {
    newFleet,
    stable: metricWindow(firstShiftAt - BASELINE_LOOKBACK_MS, step.startedAt),
    stableFromBaseline: true
  }
}

/**
 * How long the judge waits for the data of a hold that ended at `holdEnd`: metrics-delay more.
 * It gives its verdict as soon as the step's last minute has arrived, or at this time with
 * whatever has: the step's last seconds may then be missing, which a verdict on the minutes
 * before can afford better than a step held for ever.
 */
export function dataDueAt(holdEnd: number, metricsDelayMs: number): number {
  return holdEnd + metricsDelayMs
}

/** Whether the minute holding the hold's last moment has arrived for the new fleet. */
export function holdCovered(minutesWithData: number[], holdEnd: number): boolean {
  const last = Math.floor((holdEnd - 1) / MINUTE) * MINUTE
  return minutesWithData.includes(last)
}
