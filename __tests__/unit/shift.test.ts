// Setting the pair's weights on every route and reading them back (shift), and putting the
// starting weights back (restore).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2'
import { readRoutes } from '../../src/aws/elbv2.js'
import { DeployError } from '../../src/config/errors.js'
import { restoreTraffic } from '../../src/traffic/restore.js'
import { setWeights, TrafficChangedError } from '../../src/traffic/shift.js'
import { BLUE, context, FakeAws, FakeClock, GREEN, LISTENER, RULE } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws
let ctx: ReturnType<typeof context>
const pair = [BLUE, GREEN] as const

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  ctx = context(clock)
})
afterEach(() => aws.reset())

function forward(blue: number, green: number, sticky = false): Action[] {
  return [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: blue },
          { TargetGroupArn: GREEN, Weight: green }
        ],
        ...(sticky ? { TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 } } : {})
      }
    }
  ]
}
const split = (green: number) => ({ [BLUE]: 100 - green, [GREEN]: green })
/** The lock's guard when this run holds the pair: the change simply goes ahead. */
const direct = <T>(_what: string, change: () => Promise<T>) => change()
const routes = () => readRoutes(ctx.clients.elb, [LISTENER], [RULE])

describe('setWeights', () => {
  beforeEach(() => {
    aws.listeners.set(LISTENER, forward(100, 0))
    aws.rules.set(RULE, forward(90, 10))
  })

  it('writes only the routes whose weights differ, and returns the routes as read back', async () => {
    const start = await routes()
    aws.elb.resetHistory()
    const after = await setWeights(ctx.clients.elb, start, {
      pair,
      target: { [LISTENER]: split(10), [RULE]: split(10) },
      stickiness: { mode: 'keep' },
      targetSticky: false,
      guard: direct,
      log: ctx.log
    })
    expect(aws.writes.map((w) => w.arn)).toEqual([LISTENER])
    expect(aws.weights(LISTENER)).toEqual(split(10))
    expect(after.map((r) => r.actions)).toEqual([forward(90, 10), forward(90, 10)])
    // The returned routes are a fresh read, after the write.
    const names = aws.elb.calls().map((c) => c.args[0].constructor.name)
    expect(names.lastIndexOf('DescribeListenersCommand')).toBeGreaterThan(names.indexOf('ModifyListenerCommand'))
  })

  it('writes nothing when every route already has its weights, and still reads them back', async () => {
    aws.listeners.set(LISTENER, forward(90, 10))
    const start = await routes()
    aws.elb.resetHistory()
    await setWeights(ctx.clients.elb, start, {
      pair,
      target: { [LISTENER]: split(10), [RULE]: split(10) },
      stickiness: { mode: 'keep' },
      targetSticky: false,
      guard: direct,
      log: ctx.log
    })
    expect(aws.writes).toEqual([])
    // Read just before writing, and read back: nothing to write in between.
    expect(aws.elb.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeListenersCommand',
      'DescribeRulesCommand',
      'DescribeListenersCommand',
      'DescribeRulesCommand'
    ])
  })

  it('gives each route its own weights', async () => {
    await setWeights(ctx.clients.elb, await routes(), {
      pair,
      target: { [LISTENER]: { [BLUE]: 999, [GREEN]: 0 }, [RULE]: split(0) },
      stickiness: { mode: 'keep' },
      targetSticky: false,
      guard: direct,
      log: ctx.log
    })
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 999, [GREEN]: 0 })
    expect(aws.weights(RULE)).toEqual(split(0))
  })

  it('writes again, and only the route that read back wrong, with a warning', async () => {
    // The first write (the listener's) is accepted but not applied.
    aws.ignoreWrites = 1
    await setWeights(ctx.clients.elb, await routes(), {
      pair,
      target: { [LISTENER]: split(50), [RULE]: split(50) },
      stickiness: { mode: 'keep' },
      targetSticky: false,
      guard: direct,
      log: ctx.log
    })
    expect(aws.writes.map((w) => w.arn)).toEqual([LISTENER, RULE, LISTENER])
    expect(aws.weights(LISTENER)).toEqual(split(50))
    expect(ctx.log.lines).toEqual([
      'warning: Read-back differs from what was written (Listener web listener f2f7dc8e reads web-blue 100 / web-green 0); writing again'
    ])
  })

  it('fails after three writes that do not stick, naming the route and what it reads', async () => {
    aws.ignoreWrites = 3
    const shifting = setWeights(ctx.clients.elb, await routes(), {
      pair,
      target: { [LISTENER]: split(50), [RULE]: split(10) },
      stickiness: { mode: 'keep' },
      targetSticky: false,
      guard: direct,
      log: ctx.log
    })
    await expect(shifting).rejects.toThrow(DeployError)
    await expect(shifting).rejects.toThrow(
      'Weights did not stick after 3 writes: Listener web listener f2f7dc8e reads web-blue 100 / web-green 0; something else is changing the listener, stop it and run rollback'
    )
    expect(aws.writes.map((w) => w.arn)).toEqual([LISTENER, LISTENER, LISTENER])
  })

  it('writes from the route as read just before, keeping a change someone made meanwhile', async () => {
    const start = await routes()
    // After this run read the routes (say, before its hold), someone turns on stickiness; the
    // write is built from the route read just before it, so the change survives.
    aws.listeners.set(LISTENER, forward(100, 0, true))
    await setWeights(ctx.clients.elb, start, {
      pair,
      target: { [LISTENER]: split(50), [RULE]: split(10) },
      stickiness: { mode: 'keep' },
      targetSticky: false,
      guard: direct,
      log: ctx.log
    })
    expect(aws.listeners.get(LISTENER)?.[0].ForwardConfig?.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 3600
    })
  })

  it('applies the stickiness asked for', async () => {
    await setWeights(ctx.clients.elb, await routes(), {
      pair,
      target: { [LISTENER]: split(10), [RULE]: split(10) },
      stickiness: { mode: 'on', durationSeconds: 600 },
      targetSticky: false,
      guard: direct,
      log: ctx.log
    })
    expect(aws.writes[0].actions[0].ForwardConfig?.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 600
    })
  })
})

describe('setWeights when others act', () => {
  beforeEach(() => {
    aws.listeners.set(LISTENER, forward(90, 10))
    aws.rules.set(RULE, forward(90, 10))
  })

  it('stops, writing nothing, when a route reads other weights than this run left there', async () => {
    const start = await routes()
    // A person moved everything back during the hold.
    aws.listeners.set(LISTENER, forward(100, 0))
    const shifting = setWeights(ctx.clients.elb, start, {
      pair,
      target: { [LISTENER]: split(50), [RULE]: split(50) },
      stickiness: { mode: 'keep' },
      targetSticky: false,
      expected: { [LISTENER]: split(10), [RULE]: split(10) },
      guard: direct,
      log: ctx.log
    })
    await expect(shifting).rejects.toBeInstanceOf(TrafficChangedError)
    await expect(shifting).rejects.toThrow(
      'Traffic was changed by someone else (Listener web listener f2f7dc8e reads web-blue 100 / web-green 0 where this run left web-blue 90 / web-green 10); this run leaves it as it is and stops: run status, then promote or rollback'
    )
    expect(aws.writes).toEqual([])
  })

  it('a person changing the weights between the write and its read-back is not written over', async () => {
    let edited = false
    aws.onWrite = ({ arn }) => {
      if (arn === LISTENER && !edited) {
        edited = true
        aws.listeners.set(LISTENER, forward(100, 0))
      }
    }
    const shifting = setWeights(ctx.clients.elb, await routes(), {
      pair,
      target: { [LISTENER]: split(50), [RULE]: split(50) },
      stickiness: { mode: 'keep' },
      targetSticky: false,
      expected: { [LISTENER]: split(10), [RULE]: split(10) },
      guard: direct,
      log: ctx.log
    })
    await expect(shifting).rejects.toBeInstanceOf(TrafficChangedError)
    expect(aws.writes.filter((w) => w.arn === LISTENER)).toHaveLength(1)
    expect(aws.weights(LISTENER)).toEqual(split(0))
  })

  it('makes every write through the guard, and none when it refuses', async () => {
    const guarded: string[] = []
    const refusing = async (what: string): Promise<never> => {
      guarded.push(what)
      throw new DeployError('no longer holds the deploy lock')
    }
    await expect(
      setWeights(ctx.clients.elb, await routes(), {
        pair,
        target: { [LISTENER]: split(50), [RULE]: split(50) },
        stickiness: { mode: 'keep' },
        targetSticky: false,
        guard: refusing,
        log: ctx.log
      })
    ).rejects.toThrow('no longer holds the deploy lock')
    expect(guarded).toEqual(['Writing web-blue 50 / web-green 50'])
    expect(aws.writes).toEqual([])
  })

  it('leaves group stickiness on where target stickiness requires it, and says what that means', async () => {
    aws.listeners.set(LISTENER, forward(50, 50, true))
    const warnings: string[] = []
    await setWeights(ctx.clients.elb, await routes(), {
      pair,
      target: { [LISTENER]: split(0), [RULE]: split(0) },
      stickiness: { mode: 'keep' },
      targetSticky: true,
      guard: direct,
      log: ctx.log,
      warnings
    })
    expect(aws.listeners.get(LISTENER)?.[0].ForwardConfig?.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 3600
    })
    expect(warnings).toEqual([expect.stringMatching(/^Group stickiness stays on \(web listener f2f7dc8e\)/)])
  })
})

describe('restoreTraffic', () => {
  const restore = { [LISTENER]: split(0), [RULE]: split(0) }

  it('writes the starting weights, reads them back, and says so', async () => {
    aws.listeners.set(LISTENER, forward(50, 50))
    aws.rules.set(RULE, forward(50, 50))
    const warnings: string[] = []
    const after = await restoreTraffic(
      ctx,
      await routes(),
      { pair, restore, targetSticky: false, guard: direct },
      warnings
    )
    expect(aws.weights(LISTENER)).toEqual(split(0))
    expect(aws.weights(RULE)).toEqual(split(0))
    expect(after.map((r) => r.actions)).toEqual([forward(100, 0), forward(100, 0)])
    expect(warnings).toEqual([])
    expect(ctx.log.lines).toEqual([
      'warning: Restoring the starting weights on 2 routes',
      'info: Weights restored and verified: web-blue 100 / web-green 0; web-blue 100 / web-green 0'
    ])
  })

  it('switches stickiness off on a sticky route and says so, in the log and the warnings', async () => {
    aws.listeners.set(LISTENER, forward(50, 50, true))
    aws.rules.set(RULE, forward(50, 50))
    const warnings: string[] = []
    await restoreTraffic(ctx, await routes(), { pair, restore, targetSticky: false, guard: direct }, warnings)
    expect(aws.listeners.get(LISTENER)?.[0].ForwardConfig?.TargetGroupStickinessConfig).toEqual({ Enabled: false })
    expect(warnings).toEqual([
      'Group stickiness turned off on web listener f2f7dc8e: with web-green at weight 0, a stickiness cookie would keep its clients on it'
    ])
    expect(ctx.log.text()).toMatch(/warning: Group stickiness turned off/)
    // The rule had no stickiness: it is written with none.
    expect(aws.rules.get(RULE)?.[0].ForwardConfig?.TargetGroupStickinessConfig).toBeUndefined()
  })

  it('fails loudly when the weights do not stick', async () => {
    aws.listeners.set(LISTENER, forward(50, 50))
    aws.rules.set(RULE, forward(100, 0))
    aws.ignoreWrites = 3
    await expect(
      restoreTraffic(ctx, await routes(), { pair, restore, targetSticky: false, guard: direct })
    ).rejects.toThrow(/did not stick after 3 writes/)
    expect(ctx.log.text()).not.toMatch(/restored and verified/)
  })
})
