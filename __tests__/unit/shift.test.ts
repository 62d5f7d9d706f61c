// Setting the pair's weights on every route and reading them back (shift), and putting the
// starting weights back (restore).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2'
import { readRoutes } from '../../src/aws/elbv2.js'
import { DeployError } from '../../src/config/errors.js'
import { restoreTraffic } from '../../src/traffic/restore.js'
import { setWeights } from '../../src/traffic/shift.js'
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
const routes = () => readRoutes(ctx.clients.elb, [LISTENER], [RULE])

describe('setWeights', () => {
  beforeEach(() => {
    aws.listeners.set(LISTENER, forward(100, 0))
    aws.rules.set(RULE, forward(90, 10))
  })

  it('writes only the routes whose weights differ, and returns the routes as read back', async () => {
    const start = await routes()
    aws.elb.resetHistory()
    const after = await setWeights(
      ctx.clients.elb,
      start,
      pair,
      { [LISTENER]: split(10), [RULE]: split(10) },
      { mode: 'keep' },
      ctx.log
    )
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
    await setWeights(
      ctx.clients.elb,
      start,
      pair,
      { [LISTENER]: split(10), [RULE]: split(10) },
      { mode: 'keep' },
      ctx.log
    )
    expect(aws.writes).toEqual([])
    expect(aws.elb.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeListenersCommand',
      'DescribeRulesCommand'
    ])
  })

  it('gives each route its own weights', async () => {
    await setWeights(
      ctx.clients.elb,
      await routes(),
      pair,
      { [LISTENER]: { [BLUE]: 999, [GREEN]: 0 }, [RULE]: split(0) },
      { mode: 'keep' },
      ctx.log
    )
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 999, [GREEN]: 0 })
    expect(aws.weights(RULE)).toEqual(split(0))
  })

  it('writes again, and only the route that read back wrong, with a warning', async () => {
    // The first write (the listener's) is accepted but not applied.
    aws.ignoreWrites = 1
    await setWeights(
      ctx.clients.elb,
      await routes(),
      pair,
      { [LISTENER]: split(50), [RULE]: split(50) },
      { mode: 'keep' },
      ctx.log
    )
    expect(aws.writes.map((w) => w.arn)).toEqual([LISTENER, RULE, LISTENER])
    expect(aws.weights(LISTENER)).toEqual(split(50))
    expect(ctx.log.lines).toEqual([
      'warning: Read-back differs from what was written (Listener web listener f2f7dc8e reads web-blue 100 / web-green 0); writing again'
    ])
  })

  it('fails after three writes that do not stick, naming the route and what it reads', async () => {
    aws.ignoreWrites = 3
    const shifting = setWeights(
      ctx.clients.elb,
      await routes(),
      pair,
      { [LISTENER]: split(50), [RULE]: split(10) },
      { mode: 'keep' },
      ctx.log
    )
    await expect(shifting).rejects.toThrow(DeployError)
    await expect(shifting).rejects.toThrow(
      'Weights did not stick after 3 writes: Listener web listener f2f7dc8e reads web-blue 100 / web-green 0; something else is changing the listener, stop it and run rollback'
    )
    expect(aws.writes.map((w) => w.arn)).toEqual([LISTENER, LISTENER, LISTENER])
  })

  it('writes from the route as read again, keeping a change someone made meanwhile', async () => {
    aws.ignoreWrites = 1
    const start = await routes()
    // After this run read the routes, someone turns on stickiness; the first write, built from the
    // old read, does not land. The second is built from the read-back, so the change survives.
    aws.listeners.set(LISTENER, forward(100, 0, true))
    await setWeights(
      ctx.clients.elb,
      start,
      pair,
      { [LISTENER]: split(50), [RULE]: split(10) },
      { mode: 'keep' },
      ctx.log
    )
    expect(aws.listeners.get(LISTENER)?.[0].ForwardConfig?.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 3600
    })
  })

  it('applies the stickiness asked for', async () => {
    await setWeights(
      ctx.clients.elb,
      await routes(),
      pair,
      { [LISTENER]: split(10), [RULE]: split(10) },
      { mode: 'on', durationSeconds: 600 },
      ctx.log
    )
    expect(aws.writes[0].actions[0].ForwardConfig?.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 600
    })
  })
})

describe('restoreTraffic', () => {
  const restore = { [LISTENER]: split(0), [RULE]: split(0) }

  it('writes the starting weights, reads them back, and says so', async () => {
    aws.listeners.set(LISTENER, forward(50, 50))
    aws.rules.set(RULE, forward(50, 50))
    const warnings: string[] = []
    const after = await restoreTraffic(ctx, await routes(), { pair, restore }, warnings)
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
    await restoreTraffic(ctx, await routes(), { pair, restore }, warnings)
    expect(aws.listeners.get(LISTENER)?.[0].ForwardConfig?.TargetGroupStickinessConfig).toEqual({ Enabled: false })
    expect(warnings).toEqual([expect.stringMatching(/^Target group stickiness was turned off on the restored routes/)])
    expect(ctx.log.text()).toMatch(/warning: Target group stickiness was turned off/)
  })

  it('fails loudly when the weights do not stick', async () => {
    aws.listeners.set(LISTENER, forward(50, 50))
    aws.rules.set(RULE, forward(100, 0))
    aws.ignoreWrites = 3
    await expect(restoreTraffic(ctx, await routes(), { pair, restore })).rejects.toThrow(/did not stick after 3 writes/)
    expect(ctx.log.text()).not.toMatch(/restored and verified/)
  })
})
