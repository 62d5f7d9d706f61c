// The canary judge inside real deploys, against the stateful AWS fake whose load balancer serves
// traffic split by the weights written and publishes it minutes late, as CloudWatch does. The
// clock is injected: multi-minute holds run in milliseconds, and the times asserted are AWS's.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch'
import { parseConfig, type RawInputs } from '../../src/config/inputs.js'
import { deploy } from '../../src/operations/deploy.js'
import { BLUE, blueLive, context, FakeAws, FakeClock, GREEN, LISTENER } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  blueLive(aws, 3)
  aws.traffic.rps = 50
})
afterEach(() => aws.reset())

function config(extra: RawInputs = {}) {
  return parseConfig(
    {
      'listener-arns': LISTENER,
      commands: './deploy.sh v2',
      version: 'v2',
      strategy: 'canary',
      'canary-steps': '10,50,100',
      'step-wait': '5m',
      ...extra
    },
    { region: 'us-east-1' }
  )
}

/** When green first got traffic, and when it was given none again. */
function shiftAndRestore(): { shiftedAt: number; restoredAt?: number } {
  const green = aws.weightHistory.filter((h) => h.arn === LISTENER)
  const shiftedAt = green.find((h) => (h.weights[GREEN] ?? 0) > 0)!.at
  const restoredAt = green.find((h) => h.at > shiftedAt && h.weights[GREEN] === 0)?.at
  return { shiftedAt, restoredAt }
}

describe('the canary judge in a deploy', () => {
  it('a good canary passes every step on the numbers, each step held until its data arrived', async () => {
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('succeeded')
    expect(report.analysis?.map((a) => [a.step, a.weight, a.verdict, a.stableFromBaseline])).toEqual([
      [1, 10, 'pass', false],
      [2, 50, 'pass', false],
      [3, 100, 'pass', true]
    ])
    // 10% of 50 requests a second for 5 minutes and more: a few thousand requests judged.
    expect(report.analysis![0].newFleet.requests).toBeGreaterThan(1400)
    expect(report.analysis![0].stable.requests).toBeGreaterThan(9 * 1400)
    // Each step lasted its 5 minutes, then until its last minute was published (2 minutes after it
    // closed), never more than metrics-delay (3m) past its time.
    for (const step of report.timeline) expect(step.heldMs).toBeGreaterThanOrEqual(5 * 60_000 + 2 * 60_000)
    for (const step of report.timeline) expect(step.heldMs).toBeLessThanOrEqual(5 * 60_000 + 3 * 60_000 + 5_000)
    expect(report.timeline[0].checks.join('\n')).toMatch(/^canary analysis passed: 5xx rate 0% on the new fleet/m)
  })

  it('a canary answering 30% 5xx is rolled back within one metric period plus the publication delay', async () => {
    aws.traffic.errorRate = (group) => (group === GREEN ? 0.3 : 0.001)
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    const { shiftedAt, restoredAt } = shiftAndRestore()
    // The shift's own minute closes within 60 s, is published 120 s later, seen at the next look.
    expect(restoredAt! - shiftedAt).toBeLessThanOrEqual(60_000 + 120_000 + 5_000)
    const verdict = report.analysis!.at(-1)!
    expect(verdict).toMatchObject({ step: 1, verdict: 'fail', metric: 'error-rate', early: true })
    expect(report.failure?.what).toMatch(
      /^canary analysis: 5xx rate 30\.\d% on the new fleet \(\d+\/\d+\) vs 0\.1\d% on the stable one/
    )
  })

  it('a canary 3 times slower is rolled back on latency, naming the numbers', async () => {
    aws.traffic.latencyMs = (group) => (group === GREEN ? 60 : 20)
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(report.failure?.what).toMatch(
      /TargetResponseTime avg 60 ms on the new fleet vs 20 ms on the stable one: \+200%, over the tolerated \+25%/
    )
  })

  it("all at once: the flip is judged against the stable fleet's traffic before it, and a bad one flips back", async () => {
    aws.traffic.errorRate = (group) => (group === GREEN ? 0.2 : 0)
    const report = await deploy(config({ strategy: 'all-at-once' }), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(report.analysis?.at(-1)).toMatchObject({ step: 1, weight: 100, verdict: 'fail', stableFromBaseline: true })
    expect(report.analysis!.at(-1)!.stable.requests).toBeGreaterThan(0)
  })

  it('no metric data at all: each step waits metrics-delay for it, then passes with a warning that says so', async () => {
    aws.traffic.rps = 0
    const ctx = context(clock)
    const report = await deploy(config({ 'canary-steps': '10,100', 'step-wait': '2m' }), ctx)
    expect(report.result).toBe('succeeded')
    expect(report.analysis?.map((a) => [a.step, a.verdict, a.extended])).toEqual([
      [1, 'inconclusive', false],
      [2, 'inconclusive', false]
    ])
    expect(report.warnings.filter((w) => /canary analysis inconclusive/.test(w))).toHaveLength(2)
    expect(report.warnings[report.warnings.length - 1]).toMatch(
      /no requests reached the new fleet in the window.*; with no traffic to judge, set canary-analysis: false$/
    )
    // Held 2m, then waited metrics-delay (3m) for data that never came; not held longer.
    expect(report.timeline[0].heldMs).toBeGreaterThanOrEqual(2 * 60_000 + 3 * 60_000)
    expect(report.timeline[0].heldMs).toBeLessThan(2 * 60_000 + 3 * 60_000 + 10_000)
  })

  it('analysis-inconclusive: fail rolls an undecidable step back', async () => {
    aws.traffic.rps = 0
    const report = await deploy(config({ 'canary-steps': '10,100', 'analysis-inconclusive': 'fail' }), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(report.failure?.what).toMatch(
      /canary analysis inconclusive at step 1 \(10%\).*\(analysis-inconclusive: fail\)/
    )
  })

  it('too few requests for one hold, enough after the extension: judged on them, and passes', async () => {
    aws.traffic.rps = 2 // 10% of 120 requests a minute: under 100 by the end of the hold, over after another
    const report = await deploy(config({ 'canary-steps': '10' }), context(clock))
    expect(report.result).toBe('paused')
    expect(report.analysis).toMatchObject([{ step: 1, verdict: 'pass', extended: true }])
    expect(report.analysis![0].newFleet.requests).toBeGreaterThanOrEqual(100)
  })

  it('step-wait 0: the steps are not held for the judge, and the plan says it cannot judge them', async () => {
    const ctx = context(clock)
    const report = await deploy(config({ 'step-wait': '0' }), ctx)
    expect(report.result).toBe('succeeded')
    expect(report.analysis ?? []).toEqual([])
    expect(report.timeline.every((t) => t.heldMs < 60_000)).toBe(true)
    expect(report.warnings).toContain(
      'step-wait is 0: the canary judge cannot judge steps that are not held; give step-wait a few minutes, or set canary-analysis: false'
    )
  })

  it('canary-analysis: false reads no metrics at all', async () => {
    const report = await deploy(config({ 'canary-analysis': 'false' }), context(clock))
    expect(report.result).toBe('succeeded')
    expect(aws.cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0)
    expect(report.analysis ?? []).toEqual([])
  })

  it('metrics that cannot be read stop the deploy before anything moves, naming the permission', async () => {
    aws.cloudwatch
      .on(GetMetricDataCommand)
      .rejects(
        Object.assign(new Error('not authorized to perform: cloudwatch:GetMetricData'), { name: 'AccessDenied' })
      )
    await expect(deploy(config(), context(clock))).rejects.toThrow(/grant cloudwatch:GetMetricData on "\*"/)
    expect(aws.writes).toHaveLength(0)
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('the plan warns when an alarm cannot see a step as short as step-wait, in the dry run too', async () => {
    aws.alarmTiming = () => ({ Period: 60, EvaluationPeriods: 3 })
    const ctx = context(clock)
    const report = await deploy(config({ alarms: 'web-5xx', 'step-wait': '2m', 'dry-run': 'true' }), ctx)
    expect(report.result).toBe('unchanged')
    expect(report.warnings).toContain(
      'alarm web-5xx needs about 6m (period 1m x 3 evaluation periods + metrics-delay 3m) to see a bad answer, longer than step-wait 2m: a step can end before this alarm has seen it; raise step-wait to 6m or more'
    )
    expect(ctx.log.text()).toMatch(/warning: Plan: alarm web-5xx needs about 6m/)
    expect(report.plan?.checks.join('\n')).toMatch(
      /canary analysis: the new fleet's 5xx rate at most \+1 point over the stable fleet's/
    )
  })
})
