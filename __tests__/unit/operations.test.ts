import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { cleanup } from '../../src/operations/cleanup.js'
import { parseConfig, type RawInputs } from '../../src/config/inputs.js'
import { deploy } from '../../src/operations/deploy.js'
import { promote } from '../../src/operations/promote.js'
import { TAG } from '../../src/records/fleet-records.js'
import { rollback } from '../../src/operations/rollback.js'
import { status } from '../../src/operations/status.js'
import { BLUE, context, FakeAws, FakeClock, GREEN, LISTENER, ListLog, RULE } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  aws.fleet(BLUE, 2, 'b')
  aws.fleet(GREEN, 2, 'a')
  aws.knownAlarms.add('web-5xx')
})
afterEach(() => aws.reset())

function config(operation: string, extra: RawInputs = {}) {
  return parseConfig(
    { operation, 'listener-arns': LISTENER, 'step-wait': '2m', alarms: 'web-5xx', strategy: 'canary', ...extra },
    { region: 'us-east-1' }
  )
}

/** Blue live on v1, green a canary of v2 at `weight` percent, as a paused deploy leaves it. */
function pausedCanary(weight: number): void {
  aws.addListener(LISTENER, 100 - weight, weight)
  aws.tags.set(BLUE, { [TAG.version]: 'v1', [TAG.role]: 'live' })
  aws.tags.set(GREEN, { [TAG.version]: 'v2', [TAG.role]: 'canary' })
}

describe('status', () => {
  it('reports routes, fleets, versions and health, and changes nothing', async () => {
    aws.addListener(LISTENER, 100, 0)
    aws.tags.set(BLUE, { [TAG.version]: 'v1', [TAG.role]: 'live' })
    aws.tags.set(GREEN, { [TAG.version]: 'v0', [TAG.role]: 'previous' })
    aws.health = (group, id) =>
      group === GREEN && id.endsWith('1') ? { state: 'unhealthy', reason: 'Target.Timeout' } : { state: 'healthy' }
    const report = await status(config('status'), context(clock))

    expect(report.result).toBe('unchanged')
    expect(report.headline).toBe('web-blue is live (version v1); web-green is idle (version v0)')
    expect(report.outputs).toMatchObject({
      live: BLUE,
      idle: GREEN,
      previous: GREEN,
      weights: { [BLUE]: 100, [GREEN]: 0 }
    })
    const green = report.fleets.find((f) => f.targetGroupArn === GREEN)
    expect(green?.instances.map((i) => i.state).sort()).toEqual(['healthy', 'unhealthy'])
    expect(green?.instances.find((i) => i.state === 'unhealthy')?.reason).toBe('Target.Timeout')
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('reads the single TargetGroupArn form and explains what to add', async () => {
    aws.listeners.set(LISTENER, [{ Type: 'forward', TargetGroupArn: BLUE }])
    await expect(status(config('status'), context(clock))).rejects.toThrow(
      /forwards only to web-blue; add the idle target group to its forward action at weight 0/
    )
  })

  it('refuses groups that are not instance targets', async () => {
    aws.addListener(LISTENER, 100, 0)
    aws.targetType.set(GREEN, 'ip')
    await expect(status(config('status'), context(clock))).rejects.toThrow(/web-green has target type ip/)
  })

  it('reports routes that disagree without failing, pointing at rollback', async () => {
    aws.addListener(LISTENER, 100, 0)
    aws.rules.set(RULE, [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: BLUE, Weight: 50 },
            { TargetGroupArn: GREEN, Weight: 50 }
          ]
        }
      }
    ])
    const report = await status(config('status', { 'rule-arns': RULE }), context(clock))
    expect(report.headline).toMatch(/Routes disagree.*rollback/)
    expect(aws.mutatingCalls()).toEqual([])
  })
})

describe('promote', () => {
  it('continues a paused canary through the steps above its weight to 100', async () => {
    pausedCanary(10)
    const report = await promote(config('promote'), context(clock))
    expect(report.result).toBe('succeeded')
    expect(aws.greenHistory()).toEqual([50, 100])
    expect(report.timeline.map((t) => t.step)).toEqual([2, 3])
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('live')
    expect(aws.tags.get(BLUE)?.[TAG.role]).toBe('previous')
    expect(report.outputs.deployed).toBe(GREEN)
  })

  it('from 50% with steps 10,50 goes straight to 100', async () => {
    pausedCanary(50)
    const report = await promote(config('promote', { 'canary-steps': '10,50' }), context(clock))
    expect(report.result).toBe('succeeded')
    expect(aws.greenHistory()).toEqual([100])
  })

  it('with no canary in progress changes nothing and says so', async () => {
    aws.addListener(LISTENER, 100, 0)
    const report = await promote(config('promote'), context(clock))
    expect(report.result).toBe('unchanged')
    expect(report.headline).toMatch(/No canary in progress/)
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('a canary already failing its checks is rolled back, never given more traffic', async () => {
    pausedCanary(10)
    aws.alarm = () => 'ALARM'
    const report = await promote(config('promote'), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(aws.greenHistory()).toEqual([0])
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('failed')
  })

  it('an alarm during promote restores all traffic to the stable fleet', async () => {
    pausedCanary(10)
    aws.alarm = () => (aws.greenHistory().at(-1) === 100 ? 'ALARM' : 'OK')
    const report = await promote(config('promote'), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(aws.greenHistory()).toEqual([50, 100, 0])
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
  })

  it('refuses a split with no record of which fleet is the canary', async () => {
    aws.addListener(LISTENER, 90, 10)
    await expect(promote(config('promote'), context(clock))).rejects.toThrow(
      /neither fleet is recorded as the canary; run rollback/
    )
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('after a deploy that paused, in a later job, reads the new fleet from AWS alone', async () => {
    aws.addListener(LISTENER, 100, 0)
    aws.tags.set(BLUE, { [TAG.version]: 'v1', [TAG.role]: 'live' })
    const paused = await deploy(
      config('deploy', { commands: 'true', version: 'v2', 'canary-steps': '10' }),
      context(clock)
    )
    expect(paused.result).toBe('paused')
    const promoted = await promote(config('promote'), context(clock))
    expect(promoted.result).toBe('succeeded')
    expect(aws.greenHistory()).toEqual([10, 50, 100])
    expect(promoted.version).toBe('v2')
  })
})

describe('rollback', () => {
  it('from a paused canary puts all traffic back on the stable fleet', async () => {
    pausedCanary(10)
    const report = await rollback(config('rollback'), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(aws.tags.get(BLUE)?.[TAG.role]).toBe('live')
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('failed')
  })

  it('after a finished deploy flips back to the previous fleet once it is healthy', async () => {
    aws.addListener(LISTENER, 0, 100)
    aws.tags.set(BLUE, { [TAG.version]: 'v1', [TAG.role]: 'previous' })
    aws.tags.set(GREEN, { [TAG.version]: 'v2', [TAG.role]: 'live' })
    const report = await rollback(config('rollback'), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(aws.greenHistory()).toEqual([0])
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(aws.tags.get(BLUE)?.[TAG.role]).toBe('live')
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('previous')
    expect(report.headline).toMatch(/web-blue \(v1\)/)
  })

  it('refuses when the previous fleet is not healthy, and changes nothing', async () => {
    aws.addListener(LISTENER, 0, 100)
    aws.health = (group) =>
      group === BLUE ? { state: 'unhealthy', reason: 'Target.FailedHealthChecks' } : { state: 'healthy' }
    await expect(rollback(config('rollback'), context(clock))).rejects.toThrow(
      /previous fleet web-blue is not healthy.*Target\.FailedHealthChecks/
    )
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('refuses to flip to a fleet holding a failed deploy', async () => {
    aws.addListener(LISTENER, 100, 0)
    aws.tags.set(GREEN, { [TAG.version]: 'v3', [TAG.role]: 'failed' })
    await expect(rollback(config('rollback'), context(clock))).rejects.toThrow(/web-green holds a failed deploy of v3/)
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('mends routes left disagreeing, using the record of the stable fleet', async () => {
    aws.addListener(LISTENER, 50, 50)
    aws.rules.set(RULE, [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: BLUE, Weight: 100 },
            { TargetGroupArn: GREEN, Weight: 0 }
          ]
        }
      }
    ])
    aws.tags.set(BLUE, { [TAG.role]: 'live' })
    aws.tags.set(GREEN, { [TAG.role]: 'canary' })
    const report = await rollback(config('rollback', { 'rule-arns': RULE }), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(aws.weights(RULE)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    // The rule already had the right weights: only the listener is written.
    expect(aws.writes.map((w) => w.arn)).toEqual([LISTENER])
  })
})

describe('post step (cleanup)', () => {
  it('after a main step killed mid-canary: restores weights, cancels nothing finished, releases the lock', async () => {
    aws.addListener(LISTENER, 100, 0)
    const cancel = new AbortController()
    const ctx = context(clock, cancel.signal)
    // The runner kills main mid-canary: from the moment step 2 is written, main never runs again.
    const sleep = clock.sleep
    clock.sleep = (ms, signal) =>
      aws.greenHistory().at(-1) === 50 ? new Promise<void>(() => undefined) : sleep(ms, signal)
    void deploy(config('deploy', { commands: 'true', version: 'v2' }), ctx)
    for (let i = 0; i < 200 && aws.greenHistory().at(-1) !== 50; i++) await new Promise((r) => setTimeout(r, 5))
    await new Promise((r) => setTimeout(r, 20))
    expect(aws.weights(LISTENER)[GREEN]).toBe(50)
    // What main saved last is what post reads: traffic moved, not finished.
    const killedState = ctx.saved.at(-1)
    expect(killedState).toMatchObject({ trafficMoved: true, finished: false })

    const log = new ListLog()
    const outcome = await cleanup({ ...killedState!, finished: false }, ctx.clients, log, clock)
    expect(outcome.restored).toBe(true)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(Object.keys(aws.tags.get(BLUE) ?? {})).not.toContain(TAG.lock)
  })

  it('does nothing after a finished run', async () => {
    aws.addListener(LISTENER, 100, 0)
    const outcome = await cleanup(
      {
        region: 'us-east-1',
        runId: 'r',
        pair: [BLUE, GREEN],
        listenerArns: [LISTENER],
        ruleArns: [],
        trafficMoved: true,
        restore: { [LISTENER]: { [BLUE]: 100, [GREEN]: 0 } },
        commandIds: ['c'],
        finished: true
      },
      context(clock).clients,
      new ListLog(),
      clock
    )
    expect(outcome).toEqual({ restored: false, cancelledCommands: 0, releasedLock: false })
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('cancels in-flight commands when main died during them, and is idempotent', async () => {
    aws.addListener(LISTENER, 100, 0)
    aws.tags.set(BLUE, { [TAG.lock]: `id=r expires=${new Date(clock.now() + 60_000).toISOString()} holder=x` })
    const progress = {
      region: 'us-east-1',
      runId: 'r',
      pair: [BLUE, GREEN] as [string, string],
      newFleet: GREEN,
      listenerArns: [LISTENER],
      ruleArns: [],
      trafficMoved: false,
      commandIds: ['cmd-9'],
      lockArn: BLUE,
      finished: false
    }
    const first = await cleanup(progress, context(clock).clients, new ListLog(), clock)
    const second = await cleanup(progress, context(clock).clients, new ListLog(), clock)
    expect(first).toEqual({ restored: false, cancelledCommands: 1, releasedLock: true })
    expect(second.releasedLock).toBe(false)
    expect(aws.writes).toHaveLength(0)
    expect(aws.ssm.calls().filter((c) => c.args[0].constructor.name === 'CancelCommandCommand')).toHaveLength(2)
  })
})
