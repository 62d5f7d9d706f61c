// The canary judge's inputs: defaults, accepted forms, and one precise line for each bad value.
import { describe, expect, it } from '@jest/globals'
import { CANARY_ANALYSIS_DEFAULTS, parseCanaryAnalysis } from '../../src/config/canary-analysis.js'
import { InputErrors } from '../../src/config/errors.js'
import { parseConfig } from '../../src/config/inputs.js'

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

describe('the judge inputs in the whole config', () => {
  it('every bad judge input is reported in the same run, with the other bad inputs', () => {
    const listener =
      'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2'
    let caught: unknown
    try {
      parseConfig(
        {
          'listener-arns': listener,
          commands: 'true',
          version: 'v2',
          'max-error-rate-increase': '2',
          'metrics-delay': 'soon',
          strategy: 'fast'
        },
        { region: 'eu-west-1' }
      )
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(InputErrors)
    expect((caught as InputErrors).errors.map((e) => e.input).sort()).toEqual([
      'max-error-rate-increase',
      'metrics-delay',
      'strategy'
    ])
  })

  it('the parsed config carries the judge', () => {
    const listener =
      'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2'
    const config = parseConfig(
      { 'listener-arns': listener, commands: 'true', version: 'v2', 'analysis-min-requests': '500' },
      { region: 'eu-west-1' }
    )
    expect(config.canaryAnalysis).toMatchObject({ enabled: true, minRequests: 500, metricsDelayMs: 180_000 })
  })
})
