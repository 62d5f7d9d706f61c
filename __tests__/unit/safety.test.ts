// The rules a release engineer trusts this action with: traffic never stays on a failed fleet
// silently, a cancel stops traffic moving, locks never strand a rollback, records stay truthful.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { cleanup } from '../../src/operations/cleanup.js'
import { parseConfig } from '../../src/config/inputs.js'
import { deploy } from '../../src/operations/deploy.js'
import { promote } from '../../src/operations/promote.js'
import { TAG } from '../../src/records/fleet-records.js'
import { encodeClaim } from '../../src/records/lock-claim.js'
import { rollback } from '../../src/operations/rollback.js'
import {
  BLUE,
  blueLive,
  context,
  FakeAws,
  FakeClock,
  GREEN,
  LISTENER,
  ListLog,
  LOCK
} from '../__fixtures__/fake-aws.js'
import { canaryConfig } from '../__fixtures__/canary-config.js'

let clock: FakeClock
let aws: FakeAws

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  blueLive(aws, 2)
})
afterEach(() => aws.reset())

const config = canaryConfig

function stickyListener(green: number): void {
  aws.listeners.set(LISTENER, [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: 100 - green },
          { TargetGroupArn: GREEN, Weight: green }
        ],
        TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 }
      }
    }
  ])
}

describe('restores release sticky clients', () => {
  it('a failed sticky canary is restored with stickiness off, and says so', async () => {
    aws.addListener(LISTENER, 100, 0)
    aws.alarm = () => (aws.greenHistory().at(-1) === 10 ? 'ALARM' : 'OK')
    const report = await deploy(config({ stickiness: '1h' }), context(clock))
    expect(report.result).toBe('rolled-back')
    // The canary step pinned clients to one fleet, as asked...
    expect(aws.writes[0].actions[0].ForwardConfig?.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 3600
    })
    // ...and the restore let them go, since on ALB a cookie outranks weight 0.
    const restoreWrite = aws.writes.at(-1)!.actions[0]
    expect(restoreWrite.ForwardConfig?.TargetGroupStickinessConfig).toEqual({ Enabled: false })
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(report.warnings.join('\n')).toMatch(
      /Group stickiness turned off on web listener f2f7dc8e: with web-green at weight 0/
    )
  })

  it('a deploy finding stickiness on while the idle fleet takes no traffic releases its clients first', async () => {
    stickyListener(0)
    const report = await deploy(config({ strategy: 'all-at-once' }), context(clock))
    expect(report.result).toBe('succeeded')
    const [release] = aws.writes
    expect(release.actions[0].ForwardConfig).toEqual({
      TargetGroups: [
        { TargetGroupArn: BLUE, Weight: 100 },
        { TargetGroupArn: GREEN, Weight: 0 }
      ],
      TargetGroupStickinessConfig: { Enabled: false }
    })
    // Before the commands went out.
    const order = [...aws.elb.calls(), ...aws.ssm.calls()].map((c) => c.args[0].constructor.name)
    expect(order.indexOf('ModifyListenerCommand')).toBeLessThan(order.indexOf('SendCommandCommand'))
    expect(report.warnings.join('\n')).toMatch(/Group stickiness was on while web-green took no traffic; turned it off/)
  })
})

describe('cancellation stops traffic from moving', () => {
  it('with step-wait 0 a cancel during the first write stops before the next step and restores', async () => {
    const cancel = new AbortController()
    aws.onWrite = () => cancel.abort(new Error('SIGINT'))
    const report = await deploy(config({ 'step-wait': '0' }), context(clock, cancel.signal))
    expect(aws.greenHistory()).toEqual([10, 0])
    expect(report.result).toBe('rolled-back')
    expect(report.failure?.what).toMatch(/cancelled/)
  })

  it('a cancelled promote goes back to the paused canary, which stays a canary', async () => {
    aws.addListener(LISTENER, 90, 10)
    aws.tags.set(GREEN, { [TAG.version]: 'v2', [TAG.role]: 'canary' })
    const cancel = new AbortController()
    clock.onTick = () => {
      if (aws.greenHistory().at(-1) === 50) cancel.abort(new Error('SIGINT'))
    }
    const ctx = context(clock, cancel.signal)
    const report = await promote(config({ operation: 'promote' }), ctx)
    expect(report.result).toBe('paused')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 90, [GREEN]: 10 })
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('canary')
    expect(ctx.saved.at(-1)).toMatchObject({ finished: true, trafficMoved: false })
  })
})

describe('locks never strand a rollback', () => {
  it('the post step releases the lock even when its own restore fails', async () => {
    aws.parameters.values.set(LOCK, {
      value: encodeClaim({ runId: 'r', runUrl: 'x', operation: 'deploy', expiresAt: clock.now() + 60_000 }),
      version: 1
    })
    aws.addListener(LISTENER, 50, 50)
    aws.ignoreWrites = 100
    const progress = {
      region: 'us-east-1',
      runId: 'r',
      operation: 'deploy' as const,
      pair: [BLUE, GREEN] as [string, string],
      newFleet: GREEN,
      listenerArns: [LISTENER],
      ruleArns: [],
      trafficMoved: true,
      restore: { [LISTENER]: { [BLUE]: 100, [GREEN]: 0 } },
      commandIds: [],
      lockName: LOCK,
      autoRollback: true,
      finished: false
    }
    const log = new ListLog()
    await expect(cleanup(progress, context(clock).clients, log, clock)).rejects.toThrow(/did not stick/)
    expect(log.text()).toMatch(/error: Could not restore the starting weights.*run the rollback operation now/)
    expect(aws.parameters.values.has(LOCK)).toBe(false)
  })

  it('rollback takes the lock from a run that holds it, and that run stops touching traffic', async () => {
    aws.addListener(LISTENER, 100, 0)
    const ctx = context(clock)
    // The deploy is at its first hold when a person runs rollback.
    let rolledBack: Promise<unknown> | undefined
    clock.onTick = () => {
      if (!rolledBack && aws.greenHistory().at(-1) === 10) {
        rolledBack = rollback(config({ operation: 'rollback' }), {
          ...context(clock),
          run: { id: 'person', url: 'https://github.com/o/r/actions/runs/2/attempts/1', attempt: 1 }
        })
      }
    }
    const report = await deploy(config(), ctx)
    await rolledBack
    expect(report.result).toBe('failed')
    expect(report.failure?.what).toMatch(/no longer holds the deploy lock .*runs\/2\/attempts\/1 \(rollback/)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(aws.greenHistory()).toEqual([10, 0])
  })
})

describe('decisions are checked again once the lock is held', () => {
  it('plans again when traffic changed between reading the routes and taking the lock', async () => {
    aws.tags.set(GREEN, { [TAG.version]: 'v1', [TAG.role]: 'live' })
    aws.tags.set(BLUE, { [TAG.version]: 'v0', [TAG.role]: 'previous' })
    let flipped = false
    aws.parameters.beforeWrite = () => {
      // Another run finished its flip while this one was taking the lock.
      if (!flipped) aws.addListener(LISTENER, 0, 100)
      flipped = true
    }
    const ctx = context(clock)
    const report = await deploy(config({ strategy: 'all-at-once' }), ctx)
    expect(ctx.log.text()).toMatch(
      /warning: Traffic changed while this run was starting \(web-blue 100 \/ web-green 0 became web-blue 0 \/ web-green 100\): planning again/
    )
    // The deploy went to the fleet that is idle now, not to the one that went live meanwhile.
    const sent = aws.ssm.calls().filter((c) => c.args[0].constructor.name === 'SendCommandCommand')
    expect(sent.map((c) => (c.args[0].input as { InstanceIds: string[] }).InstanceIds)).toEqual([aws.targets.get(BLUE)])
    expect(report.result).toBe('succeeded')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
  })
})

describe('records stay truthful', () => {
  it('a deploy that stops before sending commands leaves the idle fleet a valid rollback target', async () => {
    aws.tags.set(GREEN, { [TAG.version]: 'v0', [TAG.role]: 'previous' })
    aws.offline.add(aws.targets.get(GREEN)![0])
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('failed')
    expect(aws.tags.get(GREEN)).toEqual({ [TAG.version]: 'v0', [TAG.role]: 'previous' })
  })

  it('rollback of a failed fleet keeps it marked failed, so a second rollback will not return to it', async () => {
    aws.addListener(LISTENER, 0, 100)
    aws.tags.set(GREEN, { [TAG.version]: 'v2', [TAG.role]: 'failed' })
    aws.tags.set(BLUE, { [TAG.version]: 'v1', [TAG.role]: 'previous' })
    await rollback(config({ operation: 'rollback' }), context(clock))
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('failed')
    await expect(rollback(config({ operation: 'rollback' }), context(clock))).rejects.toThrow(
      /holds a failed deploy of v2/
    )
  })

  it('an AWS error before traffic moves keeps the report (commands shown) and names the next step', async () => {
    aws.health = () => {
      throw Object.assign(new Error('User is not authorized to perform: elasticloadbalancing:DescribeTargetHealth'), {
        name: 'AccessDenied'
      })
    }
    aws.fleet(GREEN, 2, 'a')
    // Discovery reads health too; fail only once the commands ran.
    const health = aws.health
    aws.health = () => ({ state: 'healthy' })
    aws.command = () => {
      aws.health = health
      return { status: 'Success', exitCode: 0 }
    }
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('failed')
    expect(report.headline).toMatch(/AccessDenied: .*no traffic was moved: grant the permission named/)
    expect(report.commands?.succeeded).toBe(2)
    expect(aws.writes).toHaveLength(0)
  })
})

describe('promote follows canary-steps', () => {
  it('without strategy: canary, still walks 50 then 100', async () => {
    aws.addListener(LISTENER, 90, 10)
    aws.tags.set(GREEN, { [TAG.role]: 'canary' })
    const report = await promote(
      parseConfig({ operation: 'promote', 'listener-arns': LISTENER, 'step-wait': '1m' }, { region: 'us-east-1' }),
      context(clock)
    )
    expect(report.result).toBe('succeeded')
    expect(aws.greenHistory()).toEqual([50, 100])
  })
})

describe('rollback records its progress for the post step', () => {
  it('saves the lock it holds and marks itself finished at the end', async () => {
    aws.addListener(LISTENER, 90, 10)
    aws.tags.set(GREEN, { [TAG.role]: 'canary' })
    const ctx = context(clock)
    await rollback(config({ operation: 'rollback' }), ctx)
    expect(ctx.saved[0]).toMatchObject({ lockName: LOCK, finished: false })
    expect(ctx.saved.at(-1)).toMatchObject({ finished: true })
  })
})
