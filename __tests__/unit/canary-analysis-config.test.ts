// The canary judge's inputs: defaults, accepted forms, and one precise line for each bad value.
import { describe, expect, it } from '@jest/globals'
import { CANARY_ANALYSIS_DEFAULTS, parseCanaryAnalysis } from '../../src/config/canary-analysis.js'

function parse(raw: Record<string, string> = {}) {
  return parseCanaryAnalysis((name) => (raw[name] ?? '').trim() || CANARY_ANALYSIS_DEFAULTS[name])
}

describe('parseCanaryAnalysis', () => {
  it('defaults: on, +1 point of 5xx, +25% latency, 100 requests, 3 minutes of delay, inconclusive passes', () => {
    expect(parse()).toEqual({
      enabled: true,
      maxErrorRateIncrease: 0.01,
      maxLatencyIncrease: 0.25,
      minRequests: 100,
      metricsDelayMs: 180_000,
      inconclusive: 'pass'
    })
  })

  it.each([
    [{ 'canary-analysis': 'false' }, { enabled: false }],
    [{ 'max-error-rate-increase': '0.5%' }, { maxErrorRateIncrease: 0.005 }],
    [{ 'max-error-rate-increase': '0%' }, { maxErrorRateIncrease: 0 }],
    [{ 'max-latency-increase': '150%' }, { maxLatencyIncrease: 1.5 }],
    [{ 'analysis-min-requests': '20' }, { minRequests: 20 }],
    [{ 'metrics-delay': '90s' }, { metricsDelayMs: 90_000 }],
    [{ 'metrics-delay': '0' }, { metricsDelayMs: 0 }],
    [{ 'metrics-delay': '2s' }, { metricsDelayMs: 2000 }],
    [{ 'analysis-inconclusive': 'fail' }, { inconclusive: 'fail' }]
  ])('%j', (raw, expected) => {
    expect(parse(raw)).toMatchObject(expected)
  })

  it.each([
    ['canary-analysis', 'yes', 'accepted: true or false'],
    ['max-error-rate-increase', '1', 'accepted: a percentage from 0% to 100%'],
    ['max-error-rate-increase', '101%', 'accepted: a percentage from 0% to 100%'],
    ['max-error-rate-increase', '-1%', 'accepted: a percentage'],
    ['max-latency-increase', 'fast', 'accepted: a percentage from 0% to 1000%'],
    ['analysis-min-requests', '0', 'accepted: a whole number of requests from 1'],
    ['analysis-min-requests', '10.5', 'accepted: a whole number of requests from 1'],
    ['metrics-delay', '2h', 'accepted: a duration from 0 to 1h'],
    ['metrics-delay', '3 minutes', 'accepted: a duration from 0 to 1h'],
    ['analysis-inconclusive', 'warn', 'accepted: pass (the step passes with a warning) or fail']
  ])('%s: %j is refused with one line naming it', (name, value, accepted) => {
    expect(() => parse({ [name]: value })).toThrow(`Input ${name}: ${JSON.stringify(value)} is not valid; ${accepted}`)
  })
})
