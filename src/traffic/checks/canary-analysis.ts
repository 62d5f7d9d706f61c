import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { readMetricData } from '../../aws/metric-data.js'
import type { CanaryAnalysisConfig } from '../../config/canary-analysis.js'
import { formatDuration } from '../../config/duration.js'
import {
  judgeCanary,
  pct,
  points,
  type FleetSample,
  type Judgement,
  type Look,
  type StepAnalysis
} from '../../plan/canary-judgement.js'
import {
  fleetEvidence,
  fleetQueries,
  loadBalancerDimensions,
  loadBalancerRequests,
  metricWindow,
  type MetricWindow,
  targetGroupDimension
} from '../../plan/canary-metrics.js'
import { analysisWindows, BASELINE_LOOKBACK_MS, dataDueAt, holdCovered } from '../../plan/canary-windows.js'
import type { Clock } from '../../runtime/clock.js'
import type { Log } from '../../runtime/log.js'
import type { HoldCheck, HoldWindow } from './check.js'

export interface CanaryAnalysisDeps {
  cloudwatch: CloudWatchClient
  clock: Clock
  log: Log
  config: CanaryAnalysisConfig
  /** The routes moved (listener and rule ARNs): they name the load balancer. */
  routeArns: string[]
  /** Where each step's verdict and numbers go (the run's report). */
  record(analysis: StepAnalysis): void
  warn(message: string): void
}

interface Evidence {
  newFleet: FleetSample
  stable: FleetSample
  /** Minutes for which the new fleet's requests have arrived. */
  newMinutes: number[]
  stableFromBaseline: boolean
  incomplete: boolean
}

/** Keep going this long before a deadline: the verdict must come before the run's time is up. */
const DEADLINE_MARGIN_MS = 30_000

/**
 * The canary judge as a hold check: the new fleet against the stable one on the load balancer's
 * own per-target-group metrics. During a hold every look is an interim judgement that fails the
 * step only on overwhelming evidence (the stricter interim level), so a clearly bad version is
 * rolled back as soon as CloudWatch has published a minute of it. When the step's time is up the
 * judge waits, with the step still held and every check watching, until the data of the step's
 * last minute has arrived or metrics-delay has passed, then gives its final verdict. A step with
 * too few requests is held once more for step-wait; if it stays inconclusive it passes with a
 * warning, or fails with analysis-inconclusive: fail.
 */
export function canaryAnalysisCheck(deps: CanaryAnalysisDeps): HoldCheck {
  const { config, clock } = deps
  const policy = {
    maxErrorRateIncrease: config.maxErrorRateIncrease,
    maxLatencyIncrease: config.maxLatencyIncrease,
    minRequests: config.minRequests
  }
  const loadBalancers = loadBalancerDimensions(deps.routeArns)
  let firstShiftAt: number | undefined
  /** Per step (keyed by its start): the extension, if any, and the last reading. */
  const steps = new Map<string, { extendedUntil?: number; cache?: { at: number; evidence: Evidence } }>()

  function stepState(window: HoldWindow) {
    const state = steps.get(key(window)) ?? {}
    steps.set(key(window), state)
    return state
  }

  async function evidence(window: HoldWindow): Promise<Evidence> {
    const state = stepState(window)
    const now = clock.now()
    if (state.cache?.at === now) return state.cache.evidence
    if (window.step > 0) firstShiftAt = Math.min(firstShiftAt ?? window.startedAt, window.startedAt)
    // A paused canary is judged on its recent minutes at the weight it has been holding.
    const from = window.step === 0 ? window.startedAt - BASELINE_LOOKBACK_MS : window.startedAt
    const windows = analysisWindows({ startedAt: from, weight: window.weight }, firstShiftAt ?? from, now)
    const newTg = targetGroupDimension(window.newFleet)
    const stableTg = targetGroupDimension(window.stableFleet)
    const read = (fleets: Array<[string, string]>, w: MetricWindow) =>
      readMetricData(
        deps.cloudwatch,
        fleets.flatMap(([name, tg]) => fleetQueries(name, loadBalancers, tg, w)),
        w.start,
        w.end
      )
    const [both, baseline] = windows.stableFromBaseline
      ? await Promise.all([read([['n', newTg]], windows.newFleet), read([['s', stableTg]], windows.stable)])
      : [
          await read(
            [
              ['n', newTg],
              ['s', stableTg]
            ],
            windows.newFleet
          ),
          undefined
        ]
    const newFleet = fleetEvidence('n', loadBalancers.length, both.series)
    const stable = fleetEvidence('s', loadBalancers.length, (baseline ?? both).series)
    const result: Evidence = {
      newFleet: newFleet.sample,
      stable: stable.sample,
      newMinutes: newFleet.minutes,
      stableFromBaseline: windows.stableFromBaseline,
      incomplete: both.incomplete || !!baseline?.incomplete
    }
    state.cache = { at: now, evidence: result }
    return result
  }

  /** Puts the step's verdict, with its numbers, in the report. */
  function record(window: HoldWindow, e: Evidence, j: Judgement, look: Look, extended: boolean): void {
    deps.record({
      step: window.step,
      weight: window.weight,
      at: clock.now(),
      verdict: j.verdict,
      metric: j.metric,
      reason: j.reason,
      newFleet: e.newFleet,
      stable: e.stable,
      stableFromBaseline: e.stableFromBaseline,
      extended,
      early: look === 'interim'
    })
  }

  return {
    name: 'canary analysis',
    describe: [
      `canary analysis: the new fleet's 5xx rate at most +${points(config.maxErrorRateIncrease)} over the stable fleet's (unless chance explains it, one-sided Fisher test at 95%), its response time at most ${Math.round(config.maxLatencyIncrease * 100)}% slower, on at least ${config.minRequests} requests per step; each step is held until its load balancer metrics have arrived (at most metrics-delay ${formatDuration(config.metricsDelayMs)} more)`
    ],
    // Before any traffic moves: the metrics can be read (permission, region), so that a judge
    // that cannot see is found out while nothing has changed.
    async gate() {
      const now = clock.now()
      const w = metricWindow(now - 60_000, now)
      await readMetricData(deps.cloudwatch, loadBalancers.map(loadBalancerRequests), w.start, w.end)
      return { ok: true, line: 'load balancer metrics readable' }
    },
    async look(window) {
      const e = await evidence(window)
      if (e.incomplete) return { ok: true, line: 'canary analysis: CloudWatch could not read all the data this time' }
      const j = judgeCanary(e.newFleet, e.stable, policy, 'interim')
      if (j.verdict === 'fail') {
        record(window, e, j, 'interim', steps.get(key(window))?.extendedUntil !== undefined)
        return { ok: false, line: `canary analysis: ${j.reason}` }
      }
      return { ok: true, line: `canary analysis so far: ${summary(e)}` }
    },
    async conclude(window) {
      // A step that is not held (step-wait 0) has no window to judge, and waiting for one would
      // hold what the user asked not to hold; the plan warns about it instead.
      if (window.holdMs === 0 && window.step > 0)
        return { ok: true, line: 'canary analysis: step not held, not judged' }
      const state = stepState(window)
      const now = clock.now()
      const holdEnd = state.extendedUntil ?? window.startedAt + window.holdMs
      const latest = (window.deadline ?? Infinity) - DEADLINE_MARGIN_MS
      if (now < holdEnd && holdEnd <= latest) {
        return { ok: true, line: 'canary analysis: hold extended', holdUntil: holdEnd }
      }
      const e = await evidence(window)
      // A paused canary's look (step 0) judges the minutes already published; nothing to wait for.
      const due = Math.min(dataDueAt(holdEnd, config.metricsDelayMs), latest)
      const arrived = window.step === 0 || (!e.incomplete && holdCovered(e.newMinutes, holdEnd))
      if (!arrived && now < due) {
        return { ok: true, line: "canary analysis: waiting for CloudWatch's data of the step", holdUntil: due }
      }
      const j = judgeCanary(e.newFleet, e.stable, policy, 'final')
      const extended = state.extendedUntil !== undefined
      if (j.verdict !== 'inconclusive') {
        record(window, e, j, 'final', extended)
        return {
          ok: j.verdict === 'pass',
          line: `canary analysis${j.verdict === 'pass' ? ' passed' : ''}: ${j.reason}`
        }
      }
      // Too few requests: hold once more, if the run's time allows, before settling for less. Not
      // when none came at all, past metrics-delay: no traffic to judge will not come by waiting.
      const extendTo = now + window.holdMs
      const someTraffic = e.newFleet.requests > 0
      if (someTraffic && !extended && window.step > 0 && window.holdMs > 0 && extendTo <= latest) {
        state.extendedUntil = extendTo
        deps.log.info(
          `Canary analysis of step ${window.step} inconclusive (${j.reason}); holding ${formatDuration(window.holdMs)} more`
        )
        return { ok: true, line: 'canary analysis: inconclusive, hold extended', holdUntil: extendTo }
      }
      record(window, e, j, 'final', extended)
      const why = `canary analysis inconclusive at step ${window.step} (${window.weight}%): ${j.reason}`
      if (config.inconclusive === 'fail') return { ok: false, line: `${why} (analysis-inconclusive: fail)` }
      const hint = someTraffic ? '' : '; with no traffic to judge, set canary-analysis: false'
      deps.warn(`${why}; the step passed without a verdict (analysis-inconclusive: pass)${hint}`)
      return { ok: true, line: `${why}; passed without a verdict` }
    }
  }
}

const key = (window: HoldWindow): string => `${window.step}@${window.startedAt}`

function summary(e: Evidence): string {
  const rate = (s: FleetSample) => (s.requests > 0 ? pct(s.errors / s.requests) : 'n/a')
  return `5xx ${rate(e.newFleet)} of ${e.newFleet.requests} on the new fleet vs ${rate(e.stable)} of ${e.stable.requests} on the stable one`
}
