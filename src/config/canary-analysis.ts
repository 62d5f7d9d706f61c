import { parseDurationMs } from './duration.js'
import { InputError } from './errors.js'

/** How the canary judge works, validated from its inputs. */
export interface CanaryAnalysisConfig {
  /** Judge each traffic step: the new fleet against the stable one on the load balancer's metrics. */
  enabled: boolean
  /** Largest tolerated rise of the 5xx rate, as a fraction (0.01 = one percentage point). */
  maxErrorRateIncrease: number
  /** Largest tolerated rise of the response time, as a fraction of the stable fleet's. */
  maxLatencyIncrease: number
  /** Fewer requests than this on the new fleet in a step: the step is inconclusive. */
  minRequests: number
  /** How long CloudWatch may take to publish a minute's load balancer data. */
  metricsDelayMs: number
  /** What a step that stays inconclusive does: pass with a warning, or fail. */
  inconclusive: 'pass' | 'fail'
}

export const CANARY_ANALYSIS_DEFAULTS: Readonly<Record<string, string>> = {
  'canary-analysis': 'true',
  'max-error-rate-increase': '1%',
  'max-latency-increase': '25%',
  'analysis-min-requests': '100',
  // AWS publishes no figure for how late ALB's one-minute data arrives; users and monitoring
  // vendors report one to three minutes after the minute closes. Three covers the usual case;
  // data later than that is judged without (the step passes or fails on what has arrived).
  'metrics-delay': '3m',
  'analysis-inconclusive': 'pass'
}

const MAX_METRICS_DELAY_MS = 3600_000

/**
 * The judge's inputs. `input(name)` returns the raw value or its default; every value is checked
 * here, before the first AWS call, and a bad one names itself and what is accepted. `check` runs
 * each input's parse so that the caller can note a bad one and go on checking the others (it
 * returns the fallback then); by default the first bad input throws.
 */
export function parseCanaryAnalysis(
  input: (name: string) => string,
  check: <T>(parse: () => T, fallback: T) => T = (parse) => parse()
): CanaryAnalysisConfig {
  const defaults = parseDefaults()
  return {
    enabled: check(() => bool(input, 'canary-analysis'), defaults.enabled),
    maxErrorRateIncrease: check(
      () =>
        percent(
          input,
          'max-error-rate-increase',
          100,
          'points of 5xx rate the new fleet may add over the stable one, e.g. 1% or 0.5%'
        ),
      defaults.maxErrorRateIncrease
    ),
    maxLatencyIncrease: check(
      () =>
        percent(
          input,
          'max-latency-increase',
          1000,
          'how much slower than the stable fleet the new one may answer, e.g. 25%'
        ),
      defaults.maxLatencyIncrease
    ),
    minRequests: check(() => count(input, 'analysis-min-requests'), defaults.minRequests),
    metricsDelayMs: check(() => delay(input, 'metrics-delay'), defaults.metricsDelayMs),
    inconclusive: check(() => inconclusive(input, 'analysis-inconclusive'), defaults.inconclusive)
  }
}

/** The judge as its defaults make it. */
function parseDefaults(): CanaryAnalysisConfig {
  const d = (name: string) => CANARY_ANALYSIS_DEFAULTS[name]
  return {
    enabled: true,
    maxErrorRateIncrease: percent(d, 'max-error-rate-increase', 100, ''),
    maxLatencyIncrease: percent(d, 'max-latency-increase', 1000, ''),
    minRequests: count(d, 'analysis-min-requests'),
    metricsDelayMs: delay(d, 'metrics-delay'),
    inconclusive: inconclusive(d, 'analysis-inconclusive')
  }
}

function bool(input: (name: string) => string, name: string): boolean {
  const value = input(name)
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new InputError(name, value, 'accepted: true or false')
}

function percent(input: (name: string) => string, name: string, max: number, meaning: string): number {
  const value = input(name)
  const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(value)
  const n = m ? Number(m[1]) : NaN
  // A bare number is refused: "1" could mean 1% or 100%, and guessing wrong moves the gate.
  if (!m || n > max) throw new InputError(name, value, `accepted: a percentage from 0% to ${max}%: ${meaning}`)
  return n / 100
}

function count(input: (name: string) => string, name: string): number {
  const value = input(name)
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > 10_000_000) {
    throw new InputError(
      name,
      value,
      'accepted: a whole number of requests from 1, the fewest on the new fleet in a step to judge it, e.g. 100'
    )
  }
  return n
}

function delay(input: (name: string) => string, name: string): number {
  const value = input(name)
  const ms = parseDurationMs(value)
  if (ms === undefined || ms > MAX_METRICS_DELAY_MS) {
    throw new InputError(
      name,
      value,
      'accepted: a duration from 0 to 1h like 3m, 90s or plain seconds: how long CloudWatch may take to publish a minute of load balancer data'
    )
  }
  return ms
}

function inconclusive(input: (name: string) => string, name: string): 'pass' | 'fail' {
  const value = input(name)
  if (value === 'pass' || value === 'fail') return value
  throw new InputError(name, value, 'accepted: pass (the step passes with a warning) or fail')
}
