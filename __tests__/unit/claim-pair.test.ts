// Claiming the pair: what a run decided before the lock must still hold once the lock is written.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { discover } from '../../src/operations/discover.js'
import { claimThePair, PlanAgainError, routesChangedSince } from '../../src/records/claim-pair.js'
import { encodeClaim, LEASE_MS } from '../../src/records/lock-claim.js'
import { BLUE, blueLive, context, FakeAws, FakeClock, GREEN, LISTENER, LOCK, RULE } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws

const settings = { parameterPrefix: '/bluegreen', lockWaitMs: 0 }

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
  it('takes the lock on the pair in Parameter Store and returns it', async () => {
    const ctx = context(clock)
    const found = await read(ctx)
    const start = clock.now()
    const lock = await claimThePair(ctx, settings, found, 'deploy', false)
    expect(lock.name).toBe(LOCK)
    expect(aws.parameters.json(LOCK)).toMatchObject({
      runId: 'run-1',
      operation: 'deploy',
      expiresAt: new Date(start + LEASE_MS).toISOString()
    })
  })

  it('reads the weights again only once its lock is taken', async () => {
    const ctx = context(clock)
    const found = await read(ctx)
    aws.elb.resetHistory()
    aws.ssm.resetHistory()
    await claimThePair(ctx, settings, found, 'deploy', false)
    expect(aws.ssm.calls().map((c) => c.args[0].constructor.name)).toEqual(['PutParameterCommand'])
    expect(aws.elb.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeListenersCommand'])
  })

  it('gives the lock back and plans again when a run finished its flip while this one took the lock', async () => {
    const ctx = context(clock)
    const found = await read(ctx)
    aws.parameters.beforeWrite = () => aws.addListener(LISTENER, 0, 100)
    const error = await claimThePair(ctx, settings, found, 'deploy', false).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PlanAgainError)
    expect((error as Error).message).toBe(
      'Traffic changed while this run was starting (web-blue 100 / web-green 0 became web-blue 0 / web-green 100)'
    )
    expect(aws.parameters.values.has(LOCK)).toBe(false)
  })

  it('refuses a pair whose lock another live run holds, naming it, without taking anything', async () => {
    const holder = 'https://github.com/o/r/actions/runs/99/attempts/1'
    aws.parameters.values.set(LOCK, {
      value: encodeClaim({ runId: 'run-99', runUrl: holder, operation: 'deploy', expiresAt: clock.now() + 60_000 }),
      version: 1
    })
    const ctx = context(clock)
    const found = await read(ctx)
    await expect(claimThePair(ctx, settings, found, 'deploy', false)).rejects.toThrow(
      /Another run holds the deploy lock .*runs\/99\/attempts\/1/
    )
    expect(aws.parameters.json(LOCK)?.runId).toBe('run-99')
  })

  it('forced (a rollback): takes the lock from a live holder and leaves deciding again to the caller', async () => {
    aws.parameters.values.set(LOCK, {
      value: encodeClaim({ runId: 'run-99', runUrl: 'x', operation: 'deploy', expiresAt: clock.now() + 60_000 }),
      version: 1
    })
    const ctx = context(clock)
    const found = await read(ctx)
    aws.addListener(LISTENER, 50, 50)
    const lock = await claimThePair(ctx, settings, found, 'rollback', true)
    expect(lock.lost).toBe(false)
    expect(aws.parameters.json(LOCK)?.runId).toBe('run-1')
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
