import hypergeometricCdf from '@stdlib/stats-base-dists-hypergeometric-cdf'

/** What one fleet served in a window, as the load balancer counted it. */
export interface FleetSample {
  requests: number
  /** Answers that failed the user: the targets' 5xx plus connections to them that failed. */
  errors: number
  target5xx: number
  connectionErrors: number
  /** TargetResponseTime over the window, when the targets answered anything. */
  latencyAvgMs?: number
  latencyP99Ms?: number
}

export interface JudgePolicy {
  /** Largest tolerated rise of the error rate, as a fraction (0.01: one percentage point). */
  maxErrorRateIncrease: number
  /** Largest tolerated rise of the latency, as a fraction of the stable fleet's (0.25: +25%). */
  maxLatencyIncrease: number
  /** Fewer requests than this on the new fleet: the window says too little to pass it. */
  minRequests: number
}

/**
 * An interim look happens while the step is still held; the final one once its data is in. Many
 * interim looks at the same growing data would each risk a false alarm, so they use the much
 * stricter level (Haybittle-Peto: 0.001 at every interim look, the nominal level at the end keeps
 * the overall false-alarm rate close to the nominal one).
 */
export type Look = 'interim' | 'final'

/** One-sided significance levels: a good release is rolled back by chance at most this often. */
export const SIGNIFICANCE: Readonly<Record<Look, number>> = { final: 0.05, interim: 0.001 }

/**
 * One failed request is never fatal, whatever the baseline: on a canary's first few requests a
 * single error against a spotless stable fleet can look significant (one error on its only
 * request, against a thousand clean ones, is p = 0.001), yet it is one request.
 */
export const MIN_ERRORS_TO_FAIL = 2

/**
 * A latency rise smaller than this never fails: a fast service's latency moves by a few
 * milliseconds with load alone, which as a percentage of 5 ms would look like a regression.
 */
export const LATENCY_NOISE_MS = 10

/**
 * A p99 is compared only over this many requests on each fleet: on a few hundred it is the
 * slowest two or three answers, which one pause of a loaded host decides.
 */
export const P99_MIN_REQUESTS = 1000

export type Verdict = 'pass' | 'fail' | 'inconclusive'

export interface Judgement {
  verdict: Verdict
  /** The metric that decided a fail or an inconclusive verdict. */
  metric?: 'error-rate' | 'latency' | 'requests'
  /** One line a person reads: the metric, the numbers, the rule. */
  reason: string
  errorRate?: { new: number; stable: number; increase: number; pValue: number }
  latency?: { avg?: Comparison; p99?: Comparison }
}

export interface Comparison {
  newMs: number
  stableMs: number
  /** new / stable - 1 */
  increase: number
}

/**
 * Compares the new fleet with the stable one serving the same traffic at the same time.
 *
 * Error rate fails only when the new fleet's share of failed answers is higher than the stable
 * fleet's by more than the tolerance AND a one-sided Fisher exact test says the difference is not
 * chance at the look's level. The exact test stays correct for the small counts of a canary: one
 * error among the new fleet's first requests against a spotless baseline is not significant (and
 * one error never fails a step, MIN_ERRORS_TO_FAIL), while a large baseline makes the test sharper,
 * never blunter. Latency fails when the new fleet's average (or, over P99_MIN_REQUESTS, its p99)
 * is above the stable fleet's by more than its tolerance and LATENCY_NOISE_MS; it is judged only on
 * at least `minRequests` requests on both fleets and only at the final look: without a test of
 * significance for it, an early look would let the first slow seconds of a step decide. Fewer than `minRequests` on the new fleet, or none on the stable
 * one, cannot pass: the verdict is inconclusive.
 */
export function judgeCanary(newFleet: FleetSample, stable: FleetSample, policy: JudgePolicy, look: Look): Judgement {
  if (newFleet.requests === 0) {
    return {
      verdict: 'inconclusive',
      metric: 'requests',
      reason: 'no requests reached the new fleet in the window (or CloudWatch has not published them yet)'
    }
  }
  if (stable.requests === 0) {
    return {
      verdict: 'inconclusive',
      metric: 'requests',
      reason: 'no requests reached the stable fleet in the window: nothing to compare with'
    }
  }
  const alpha = SIGNIFICANCE[look]
  const rateNew = newFleet.errors / newFleet.requests
  const rateStable = stable.errors / stable.requests
  const pValue = fisherOneSided(newFleet.errors, newFleet.requests, stable.errors, stable.requests)
  const errorRate = { new: rateNew, stable: rateStable, increase: rateNew - rateStable, pValue }
  const rates = `5xx rate ${pct(rateNew)} on the new fleet (${newFleet.errors}/${newFleet.requests}) vs ${pct(rateStable)} on the stable one (${stable.errors}/${stable.requests})`
  if (errorRate.increase > policy.maxErrorRateIncrease && pValue < alpha && newFleet.errors >= MIN_ERRORS_TO_FAIL) {
    return {
      verdict: 'fail',
      metric: 'error-rate',
      reason: `${rates}: +${points(errorRate.increase)}, over the tolerated +${points(policy.maxErrorRateIncrease)}, and significant (p=${formatP(pValue)} < ${alpha})`,
      errorRate
    }
  }
  const enough = newFleet.requests >= policy.minRequests && stable.requests >= policy.minRequests
  const latency = enough && look === 'final' ? compareLatency(newFleet, stable) : undefined
  const slower = latency && (['avg', 'p99'] as const).find((k) => exceeds(latency[k], policy.maxLatencyIncrease))
  if (latency && slower) {
    const c = latency[slower] as Comparison
    return {
      verdict: 'fail',
      metric: 'latency',
      reason: `TargetResponseTime ${slower} ${ms(c.newMs)} on the new fleet vs ${ms(c.stableMs)} on the stable one: +${Math.round(c.increase * 100)}%, over the tolerated +${Math.round(policy.maxLatencyIncrease * 100)}%`,
      errorRate,
      latency
    }
  }
  if (newFleet.requests < policy.minRequests) {
    return {
      verdict: 'inconclusive',
      metric: 'requests',
      reason: `only ${newFleet.requests} requests on the new fleet, fewer than analysis-min-requests (${policy.minRequests}); ${rates}`,
      errorRate
    }
  }
  if (stable.requests < policy.minRequests) {
    return {
      verdict: 'inconclusive',
      metric: 'requests',
      reason: `only ${stable.requests} requests on the stable fleet to compare with, fewer than analysis-min-requests (${policy.minRequests}); ${rates}`,
      errorRate
    }
  }
  const why =
    errorRate.increase > policy.maxErrorRateIncrease
      ? `not significant (p=${formatP(pValue)})`
      : `within +${points(policy.maxErrorRateIncrease)}`
  const lat = latency?.avg
    ? `; latency avg ${ms(latency.avg.newMs)} vs ${ms(latency.avg.stableMs)}${latency.p99 ? `, p99 ${ms(latency.p99.newMs)} vs ${ms(latency.p99.stableMs)}` : ''}, within +${Math.round(policy.maxLatencyIncrease * 100)}%`
    : ''
  return { verdict: 'pass', reason: `${rates}, ${why}${lat}`, errorRate, latency }
}

/**
 * P(the new fleet gets at least `a` of the errors) if errors fell on requests regardless of fleet:
 * the one-sided p-value of Fisher's exact test. That count follows a hypergeometric law; its upper
 * tail equals the lower tail of the new fleet's successes, so one CDF call gives it without the
 * cancellation of 1 - cdf (p-values of 1e-12 stay exact).
 */
export function fisherOneSided(newErrors: number, newTotal: number, stableErrors: number, stableTotal: number): number {
  const total = newTotal + stableTotal
  const errors = newErrors + stableErrors
  if (errors === 0 || newErrors === 0) return 1
  return Math.min(1, hypergeometricCdf(newTotal - newErrors, total, total - errors, newTotal))
}

function compareLatency(newFleet: FleetSample, stable: FleetSample): Judgement['latency'] {
  const compare = (n?: number, s?: number): Comparison | undefined =>
    n === undefined || s === undefined || s <= 0 ? undefined : { newMs: n, stableMs: s, increase: n / s - 1 }
  const avg = compare(newFleet.latencyAvgMs, stable.latencyAvgMs)
  const p99 =
    Math.min(newFleet.requests, stable.requests) >= P99_MIN_REQUESTS
      ? compare(newFleet.latencyP99Ms, stable.latencyP99Ms)
      : undefined
  return avg || p99 ? { avg, p99 } : undefined
}

function exceeds(c: Comparison | undefined, tolerance: number): boolean {
  return !!c && c.increase > tolerance && c.newMs - c.stableMs > LATENCY_NOISE_MS
}

/** A share as a percentage, with a second decimal only where the rates live (under 1%). */
export function pct(x: number): string {
  return x === 0 ? '0%' : `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`
}

/** A rise of a rate in percentage points: `1 point`, `0.5 points`. */
export function points(x: number): string {
  const n = (x * 100).toFixed(2).replace(/\.?0+$/, '')
  return `${n} point${n === '1' ? '' : 's'}`
}

function ms(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`
}

function formatP(p: number): string {
  return p < 1e-6 ? '<1e-6' : p < 0.001 ? p.toExponential(1) : p.toFixed(3)
}

/** The judge's word on one traffic step, with the numbers behind it: what the summary shows. */
export interface StepAnalysis {
  /** 1-based step number; 0 for the look at a paused canary before a promote widens it. */
  step: number
  /** Percent of traffic on the new fleet. */
  weight: number
  /** When the verdict was given. */
  at: number
  verdict: Verdict
  metric?: Judgement['metric']
  reason: string
  newFleet: FleetSample
  stable: FleetSample
  /** At 100% the stable fleet is judged on its traffic from before the first shift. */
  stableFromBaseline: boolean
  /** The hold was extended once for want of requests. */
  extended: boolean
  /** Given mid-hold on overwhelming evidence, before the step's time was up. */
  early: boolean
}
