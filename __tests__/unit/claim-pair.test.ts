// Claiming the pair: what a run decided before the lock must still hold once the lock is written.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { lockTtlMs } from '../../src/plan/lock-lease.js'
import { discover } from '../../src/operations/discover.js'
import { claimThePair, routesChangedSince } from '../../src/records/claim-pair.js'
import { decodeLock, encodeLock, TAG } from '../../src/records/fleet-records.js'
import { BLUE, blueLive, context, FakeAws, FakeClock, GREEN, LISTENER, RULE } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws

const limits = { timeoutMs: 30 * 60_000, commandTimeoutMs: 10 * 60_000, healthTimeoutMs: 5 * 60_000 }

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  blueLive(aws, 2)
})
afterEach(() => aws.reset())

const read = (ctx: ReturnType<typeof context>, ruleArns: string[] = []) =>
  discover({ listenerArns: [LISTENER], ruleArns }, ctx.clients.elb)

function forwardTo(blue: number, green: number) {
  return [
    {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: blue },
          { TargetGroupArn: GREEN, Weight: green }
        ]
      }
    }
  ]
}

describe('claimThePair', () => {
  it('takes the lock on the pair for the lease and returns the ARN that carries it', async () => {
    const ctx = context(clock)
    const found = await read(ctx)
    const start = clock.now()
    expect(await claimThePair(ctx, limits, found, 'deploy')).toBe(BLUE)
    expect(decodeLock(aws.tags.get(BLUE)?.[TAG.lock])).toMatchObject({
      id: 'run-1',
      expiresAt: start + lockTtlMs(limits)
    })
  })

  it('reads the weights again only once its lock is written', async () => {
    const ctx = context(clock)
    const found = await read(ctx)
    aws.elb.resetHistory()
    await claimThePair(ctx, limits, found, 'deploy')
    const names = aws.elb.calls().map((c) => c.args[0].constructor.name)
    expect(names.indexOf('AddTagsCommand')).toBeGreaterThanOrEqual(0)
    expect(names.indexOf('DescribeListenersCommand')).toBeGreaterThan(names.indexOf('AddTagsCommand'))
  })

  it('refuses, and releases its lock, when a run finished its flip while this one took the lock', async () => {
    const ctx = context(clock)
    const found = await read(ctx)
    // The other run's write lands during the settle wait, after this run's lock went on.
    clock.onTick = () => aws.addListener(LISTENER, 0, 100)
    await expect(claimThePair(ctx, limits, found, 'deploy')).rejects.toThrow(
      'Traffic changed while this run was starting (web-blue 100 / web-green 0 became web-blue 0 / web-green 100); nothing was changed: run deploy again'
    )
    expect(aws.elb.calls().some((c) => c.args[0].constructor.name === 'AddTagsCommand')).toBe(true)
    expect(aws.tags.get(BLUE)?.[TAG.lock]).toBeUndefined()
  })

  it('names the operation to run again', async () => {
    const ctx = context(clock)
    const found = await read(ctx)
    aws.addListener(LISTENER, 50, 50)
    await expect(claimThePair(ctx, limits, found, 'promote')).rejects.toThrow(/run promote again$/)
  })

  it('refuses a pair whose lock another live run holds, as discovery read it, without writing', async () => {
    const holder = 'https://github.com/o/r/actions/runs/99/attempts/1'
    aws.tags.set(BLUE, {
      [TAG.lock]: encodeLock({ id: 'run-99', holder, expiresAt: clock.now() + 600_000 })
    })
    const ctx = context(clock)
    const found = await read(ctx)
    expect(found.lock?.id).toBe('run-99')
    await expect(claimThePair(ctx, limits, found, 'deploy')).rejects.toThrow(/Another run holds the deploy lock/)
    expect(aws.mutatingCalls()).toEqual([])
  })
})

describe('routesChangedSince', () => {
  it('says nothing when every route reads as it did', async () => {
    aws.rules.set(RULE, forwardTo(100, 0))
    const ctx = context(clock)
    const found = await read(ctx, [RULE])
    expect(await routesChangedSince(ctx, found)).toBeUndefined()
  })

  it('finds a change on a rule as well as on a listener', async () => {
    aws.rules.set(RULE, forwardTo(100, 0))
    const ctx = context(clock)
    const found = await read(ctx, [RULE])
    aws.rules.set(RULE, forwardTo(90, 10))
    expect(await routesChangedSince(ctx, found)).toBe('web-blue 100 / web-green 0 became web-blue 90 / web-green 10')
  })

  it('ignores changes to the rest of the listener that leave the weights alone', async () => {
    const ctx = context(clock)
    const found = await read(ctx)
    // Someone switched on stickiness: the weights, which are all the run decided from, are as read.
    const [forward] = forwardTo(100, 0)
    aws.listeners.set(LISTENER, [
      { ...forward, ForwardConfig: { ...forward.ForwardConfig, TargetGroupStickinessConfig: { Enabled: true } } }
    ])
    expect(await routesChangedSince(ctx, found)).toBeUndefined()
  })
})
