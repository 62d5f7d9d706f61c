// The hold checks as a list: each check's lines, its gate, and the helpers that use the whole list.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch'
import { DeployError } from '../../src/config/errors.js'
import { parseConfig } from '../../src/config/inputs.js'
import { alarmsCheck, judgeAlarms } from '../../src/traffic/checks/alarms.js'
import type { CheckLook, HoldCheck, HoldWindow } from '../../src/traffic/checks/check.js'
import { describeChecks, firstFailingGate, holdChecks } from '../../src/traffic/checks/hold-checks.js'
import { judgeTargetHealth, targetHealthCheck } from '../../src/traffic/checks/target-health.js'
import { BLUE, context, FakeAws, FakeClock, GREEN, LISTENER } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws
let ctx: ReturnType<typeof context>

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  ctx = context(clock)
})
afterEach(() => aws.reset())

function window(instanceIds: string[]): HoldWindow {
  return { newFleet: GREEN, stableFleet: BLUE, instanceIds, step: 1, weight: 10, startedAt: clock.now(), holdMs: 0 }
}

describe('alarms check', () => {
  beforeEach(() => {
    aws.knownAlarms.add('web-5xx')
    aws.knownAlarms.add('db-errors')
  })

  it('says every watched alarm is OK, and promises each one in the plan', async () => {
    const check = alarmsCheck(ctx.clients.cloudwatch, ['web-5xx', 'db-errors'], 180_000)
    expect(check.describe).toEqual(['alarm web-5xx not in ALARM', 'alarm db-errors not in ALARM'])
    expect(await check.look(window([]))).toEqual({ ok: true, line: 'alarms web-5xx, db-errors OK' })
    // Composite alarms are asked for too: DescribeAlarms leaves them out unless asked.
    expect(aws.cloudwatch.commandCalls(DescribeAlarmsCommand)[0].args[0].input).toMatchObject({
      AlarmNames: ['web-5xx', 'db-errors'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm']
    })
  })

  it('fails a look and the gate on an alarm in ALARM, with its reason', async () => {
    aws.alarm = (name) => (name === 'db-errors' ? 'ALARM' : 'OK')
    const check = alarmsCheck(ctx.clients.cloudwatch, ['web-5xx', 'db-errors'], 180_000)
    const expected = { ok: false, line: 'alarm db-errors in ALARM: Threshold Crossed for db-errors' }
    expect(await check.look(window([]))).toEqual(expected)
    expect(await check.gate?.()).toEqual(expected)
  })

  it('counts INSUFFICIENT_DATA as not firing', async () => {
    aws.alarm = () => 'INSUFFICIENT_DATA'
    const check = alarmsCheck(ctx.clients.cloudwatch, ['web-5xx'], 180_000)
    expect((await check.look(window([]))).ok).toBe(true)
  })

  it('with no alarms watches nothing: no AWS call, no gate, no promise in the plan', async () => {
    const check = alarmsCheck(ctx.clients.cloudwatch, [], 180_000)
    expect(check.gate).toBeUndefined()
    expect(check.describe).toEqual([])
    expect(await check.look(window([]))).toEqual({ ok: true, line: 'no alarms watched' })
    expect(aws.cloudwatch.calls()).toHaveLength(0)
  })

  it('makes a misspelt alarm an error rather than a check that never fires', async () => {
    const check = alarmsCheck(ctx.clients.cloudwatch, ['web-5xx', 'web-5x'], 180_000)
    const looking = check.look(window([]))
    await expect(looking).rejects.toThrow(DeployError)
    await expect(looking).rejects.toThrow(
      'Alarm web-5x not found in CloudWatch; check the names in alarms and the region'
    )
  })
})

describe('judgeAlarms', () => {
  it.each([
    ['all OK', [{ name: 'a', state: 'OK' }], { ok: true, line: 'alarms a, b OK' }],
    [
      'the trailing full stop of the reason is dropped',
      [{ name: 'a', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [5.0]. ' }],
      { ok: false, line: 'alarm a in ALARM: Threshold Crossed: 1 datapoint [5.0]' }
    ],
    [
      'every alarm in ALARM is named, with the first reason',
      [
        { name: 'a', state: 'ALARM', reason: 'first' },
        { name: 'b', state: 'ALARM', reason: 'second' }
      ],
      { ok: false, line: 'alarm a, b in ALARM: first' }
    ],
    ['no reason given', [{ name: 'b', state: 'ALARM' }], { ok: false, line: 'alarm b in ALARM' }]
  ])('%s', (_case, alarms, look) => {
    expect(judgeAlarms(['a', 'b'], alarms)).toEqual(look)
  })
})

describe('target health check', () => {
  it('says how many of the deployed targets are healthy', async () => {
    const ids = aws.fleet(GREEN, 3, 'a')
    const check = targetHealthCheck(ctx.clients.elb)
    expect(check.gate).toBeUndefined()
    expect(check.describe).toEqual(['every target of the new fleet healthy'])
    expect(await check.look(window(ids))).toEqual({ ok: true, line: '3/3 targets healthy' })
  })

  it('fails on a deployed target that is not healthy, naming it with its reason and the group', async () => {
    const ids = aws.fleet(GREEN, 3, 'a')
    aws.health = (_group, id) =>
      id === ids[1] ? { state: 'unhealthy', reason: 'Target.Timeout' } : { state: 'healthy' }
    expect(await targetHealthCheck(ctx.clients.elb).look(window(ids))).toEqual({
      ok: false,
      line: `${ids[1]} unhealthy (Target.Timeout) in web-green`
    })
  })

  it('fails when a deployed target left the group', async () => {
    const ids = aws.fleet(GREEN, 3, 'a')
    aws.targets.set(GREEN, ids.slice(0, 2))
    expect(await targetHealthCheck(ctx.clients.elb).look(window(ids))).toEqual({
      ok: false,
      line: 'targets left web-green'
    })
  })

  it('ignores targets registered since the deploy, which did not take it', async () => {
    const ids = aws.fleet(GREEN, 3, 'a')
    aws.health = (_group, id) => (id === ids[2] ? { state: 'initial' } : { state: 'healthy' })
    expect(await targetHealthCheck(ctx.clients.elb).look(window(ids.slice(0, 2)))).toEqual({
      ok: true,
      line: '2/2 targets healthy'
    })
  })

  it('judges from the health given, without AWS', () => {
    const subject = window(['i-1', 'i-2'])
    expect(
      judgeTargetHealth(subject, [
        { id: 'i-1', state: 'draining', reason: 'Target.DeregistrationInProgress' },
        { id: 'i-2', state: 'healthy' }
      ])
    ).toEqual({ ok: false, line: 'i-1 draining (Target.DeregistrationInProgress) in web-green' })
  })
})

describe('the list of checks', () => {
  const config = (alarms: string) =>
    parseConfig({ 'listener-arns': LISTENER, commands: 'true', version: 'v2', alarms }, { region: 'us-east-1' })

  const report = () => ({ analysis: [], warnings: [] })

  it('holds the alarms, then target health, then the canary judge, in the order they are looked at and reported', () => {
    expect(holdChecks(config('web-5xx'), ctx, report()).map((c) => c.name)).toEqual([
      'alarms',
      'target health',
      'canary analysis'
    ])
  })

  it('describes itself as the lines of every check, in order', () => {
    const lines = describeChecks(holdChecks(config('web-5xx\ndb-errors'), ctx, report()))
    expect(lines.slice(0, 3)).toEqual([
      'alarm web-5xx not in ALARM',
      'alarm db-errors not in ALARM',
      'every target of the new fleet healthy'
    ])
    expect(lines[3]).toMatch(/^canary analysis: /)
    const off = parseConfig(
      { 'listener-arns': LISTENER, commands: 'true', version: 'v2', 'canary-analysis': 'false' },
      { region: 'us-east-1' }
    )
    expect(describeChecks(holdChecks(off, ctx, report()))).toEqual(['every target of the new fleet healthy'])
  })
})

describe('firstFailingGate', () => {
  const gated = (name: string, look: CheckLook, delayMs = 0, seen: string[] = []): HoldCheck => ({
    name,
    describe: [],
    gate: async () => {
      seen.push(name)
      await new Promise((r) => setTimeout(r, delayMs))
      seen.push(`${name} done`)
      return look
    },
    look: async () => {
      throw new Error('a gate never holds')
    }
  })

  it('is undefined when every gate passes, and skips checks without one', async () => {
    const seen: string[] = []
    const ungated: HoldCheck = { name: 'u', describe: [], look: async () => ({ ok: false, line: 'never asked' }) }
    expect(
      await firstFailingGate([
        gated('a', { ok: true, line: 'a ok' }, 0, seen),
        ungated,
        gated('b', { ok: true, line: 'b ok' }, 0, seen)
      ])
    ).toBeUndefined()
    expect(seen).toEqual(['a', 'b', 'a done', 'b done'])
  })

  it('asks every gate side by side and returns the first failing one in list order', async () => {
    const seen: string[] = []
    const slowFail = gated('slow', { ok: false, line: 'slow failed' }, 20, seen)
    const fastFail = gated('fast', { ok: false, line: 'fast failed' }, 0, seen)
    expect(await firstFailingGate([gated('ok', { ok: true, line: 'ok' }, 0, seen), slowFail, fastFail])).toEqual({
      ok: false,
      line: 'slow failed'
    })
    // The fast gate was asked before the slow one answered.
    expect(seen.indexOf('fast')).toBeLessThan(seen.indexOf('slow done'))
  })

  it('is empty-handed for an empty list', async () => {
    expect(await firstFailingGate([])).toBeUndefined()
  })
})
