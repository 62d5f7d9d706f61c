// The traffic steps on their own: shifts, holds with hand-made checks, and every way they end.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import { readRoutes } from '../../src/aws/elbv2.js'
import type { CanaryStep } from '../../src/plan/deploy-plan.js'
import { pairWeights } from '../../src/plan/forward-action.js'
import { newReport, type RunReport } from '../../src/report/report.js'
import type { CheckLook, HoldCheck, HoldWindow } from '../../src/traffic/checks/check.js'
import { LockLostError } from '../../src/config/errors.js'
import { runTrafficSteps, type StepsRun } from '../../src/traffic/steps.js'
import { BLUE, context, FakeAws, FakeClock, GREEN, LISTENER } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws
let ctx: ReturnType<typeof context>
let report: RunReport
let cancel: AbortController
const MIN = 60_000

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  aws.addListener(LISTENER, 100, 0)
  cancel = new AbortController()
  ctx = context(clock, cancel.signal)
  report = newReport({ operation: 'deploy', dryRun: false, version: 'v2' }, clock.now())
})
afterEach(() => aws.reset())

const config = { stickiness: { mode: 'keep' } as const, autoRollback: true }
const steps = (...weights: number[]): CanaryStep[] => weights.map((weight) => ({ weight, holdMs: MIN }))

/** A check that fails at the windows `failsAt` picks; the windows it saw are kept. */
function watcher(failsAt: (w: HoldWindow) => boolean = () => false) {
  const windows: HoldWindow[] = []
  const check: HoldCheck = {
    name: 'watcher',
    describe: ['watched'],
    look: async (w): Promise<CheckLook> => {
      windows.push(w)
      return failsAt(w) ? { ok: false, line: `bad at ${w.weight}%` } : { ok: true, line: `fine at ${w.weight}%` }
    }
  }
  return { check, windows }
}

async function stepsRun(extra: Partial<StepsRun> & { checks: HoldCheck[] }) {
  const moved: Array<{ moved: boolean; writesSoFar: number }> = []
  const run: StepsRun = {
    routes: await readRoutes(ctx.clients.elb, [LISTENER], []),
    pair: [BLUE, GREEN],
    newFleet: GREEN,
    stableFleet: BLUE,
    steps: steps(10, 50, 100),
    restore: { [LISTENER]: { [BLUE]: 100, [GREEN]: 0 } },
    instanceIds: ['i-a'],
    deadline: clock.now() + 60 * MIN,
    firstStepNumber: 1,
    targetSticky: false,
    guard: (_what, change) => change(),
    confirmHeld: async () => undefined,
    onTrafficMoved: (m) => void moved.push({ moved: m, writesSoFar: aws.writes.length }),
    ...extra
  }
  return { run, moved }
}

describe('runTrafficSteps', () => {
  it('shifts step by step, holds each step, and records each in the timeline', async () => {
    const { check, windows } = watcher()
    const { run, moved } = await stepsRun({ checks: [check] })
    const start = clock.now()
    const outcome = await runTrafficSteps(config, ctx, run, report)

    expect(outcome.kind).toBe('completed')
    expect(aws.greenHistory()).toEqual([10, 50, 100])
    expect(report.timeline).toEqual([
      { step: 1, weight: 10, startedAt: start, heldMs: MIN, outcome: 'held', checks: ['fine at 10%', '13 checks'] },
      {
        step: 2,
        weight: 50,
        startedAt: start + MIN,
        heldMs: MIN,
        outcome: 'held',
        checks: ['fine at 50%', '13 checks']
      },
      {
        step: 3,
        weight: 100,
        startedAt: start + 2 * MIN,
        heldMs: MIN,
        outcome: 'held',
        checks: ['fine at 100%', '13 checks']
      }
    ])
    expect(new Set(windows.map((w) => `${w.step}:${w.weight}`))).toEqual(new Set(['1:10', '2:50', '3:100']))
    expect(report.failure).toBeUndefined()
    // Told before each write, so that a runner killing the step mid-write still gets a restore.
    expect(moved).toEqual([
      { moved: true, writesSoFar: 0 },
      { moved: true, writesSoFar: 1 },
      { moved: true, writesSoFar: 2 }
    ])
  })

  it('numbers the steps from firstStepNumber (a promote continues the deploy)', async () => {
    const { run } = await stepsRun({ checks: [watcher().check], steps: steps(50, 100), firstStepNumber: 2 })
    await runTrafficSteps(config, ctx, run, report)
    expect(report.timeline.map((t) => [t.step, t.weight])).toEqual([
      [2, 50],
      [3, 100]
    ])
  })

  it('restores the starting weights at a failed check, and records the failure and the restore', async () => {
    const { check } = watcher((w) => w.weight === 50)
    const { run, moved } = await stepsRun({ checks: [check] })
    const outcome = await runTrafficSteps(config, ctx, run, report)

    expect(outcome).toMatchObject({ kind: 'failed', restored: true, cancelled: false, message: 'bad at 50%' })
    expect(aws.greenHistory()).toEqual([10, 50, 0])
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(report.failure).toMatchObject({ what: 'bad at 50%', step: 2, weight: 50 })
    expect(report.timeline.map((t) => [t.step, t.weight, t.outcome])).toEqual([
      [1, 10, 'held'],
      [2, 50, 'failed'],
      [0, 0, 'restored']
    ])
    expect(report.timeline[1].checks).toEqual(['bad at 50%'])
    // Before each write (the restore too, so the post step knows what may be on the routes), and
    // once the restore is verified.
    expect(moved.map((m) => m.moved)).toEqual([true, true, true, false])
    expect(ctx.log.text()).toMatch(/error: Step 2 \(50% on web-green\) failed: bad at 50%/)
  })

  it('with auto-rollback off leaves the traffic where it is and says so loudly', async () => {
    const { check } = watcher((w) => w.weight === 50)
    const { run, moved } = await stepsRun({ checks: [check] })
    const outcome = await runTrafficSteps({ ...config, autoRollback: false }, ctx, run, report)

    expect(outcome).toMatchObject({ kind: 'failed', restored: false })
    expect(aws.greenHistory()).toEqual([10, 50])
    const message = 'bad at 50%; auto-rollback is off, so 50% of traffic stays on web-green: run rollback to undo'
    expect(outcome.kind === 'failed' && outcome.message).toBe(message)
    expect(report.warnings).toEqual([message])
    expect(moved.map((m) => m.moved)).toEqual([true, true])
  })

  it('a cancel restores cancelRestore, marking the step cancelled', async () => {
    aws.addListener(LISTENER, 90, 10)
    clock.onTick = () => {
      if (aws.greenHistory().at(-1) === 50) cancel.abort(new Error('SIGINT'))
    }
    const paused = { [LISTENER]: { [BLUE]: 90, [GREEN]: 10 } }
    const { run, moved } = await stepsRun({ checks: [watcher().check], steps: steps(50, 100), cancelRestore: paused })
    const outcome = await runTrafficSteps(config, ctx, run, report)

    expect(outcome).toMatchObject({ kind: 'failed', restored: true, cancelled: true, message: 'the run was cancelled' })
    expect(aws.greenHistory()).toEqual([50, 10])
    expect(report.timeline.map((t) => [t.weight, t.outcome])).toEqual([
      [50, 'cancelled'],
      [10, 'restored']
    ])
    expect(moved.map((m) => m.moved)).toEqual([true, true, false])
  })

  it('a cancel without cancelRestore restores the starting weights', async () => {
    clock.onTick = () => {
      if (aws.greenHistory().at(-1) === 10) cancel.abort(new Error('SIGINT'))
    }
    const { run } = await stepsRun({ checks: [watcher().check] })
    const outcome = await runTrafficSteps(config, ctx, run, report)
    expect(outcome).toMatchObject({ cancelled: true, restored: true })
    expect(aws.greenHistory()).toEqual([10, 0])
  })

  it('lookFirstAt: a paused canary that fails its look goes straight back, without any shift', async () => {
    aws.addListener(LISTENER, 90, 10)
    const { check, windows } = watcher(() => true)
    const { run, moved } = await stepsRun({
      checks: [check],
      steps: steps(50, 100),
      lookFirstAt: 10,
      firstStepNumber: 2
    })
    const outcome = await runTrafficSteps(config, ctx, run, report)

    expect(outcome).toMatchObject({ kind: 'failed', restored: true, message: 'bad at 10%' })
    expect(aws.greenHistory()).toEqual([0])
    expect(windows).toHaveLength(1)
    expect(windows[0]).toMatchObject({ step: 0, weight: 10, holdMs: 0 })
    expect(report.failure).toMatchObject({ step: 0, weight: 10 })
    expect(report.timeline.map((t) => [t.step, t.weight, t.outcome])).toEqual([
      [0, 10, 'failed'],
      [0, 0, 'restored']
    ])
    expect(moved.map((m) => m.moved)).toEqual([true, false])
  })

  it('lookFirstAt: a paused canary that passes its look goes on, the look left out of the timeline', async () => {
    aws.addListener(LISTENER, 90, 10)
    const { check, windows } = watcher()
    const { run } = await stepsRun({ checks: [check], steps: steps(50, 100), lookFirstAt: 10, firstStepNumber: 2 })
    const outcome = await runTrafficSteps(config, ctx, run, report)

    expect(outcome.kind).toBe('completed')
    expect(windows[0]).toMatchObject({ step: 0, weight: 10 })
    expect(aws.greenHistory()).toEqual([50, 100])
    expect(report.timeline.map((t) => t.step)).toEqual([2, 3])
  })

  it('stops without touching traffic once another run took the lock, found as the hold ends', async () => {
    const { run, moved } = await stepsRun({
      checks: [watcher().check],
      confirmHeld: async () => {
        throw new LockLostError('This run no longer holds the deploy lock (a rollback holds it now)')
      }
    })
    const outcome = await runTrafficSteps(config, ctx, run, report)

    expect(outcome).toMatchObject({ kind: 'interrupted', by: 'lock' })
    // Step 1 went out; step 2 never did, and nothing was restored: the other run's weights win.
    expect(aws.greenHistory()).toEqual([10])
    expect(report.failure).toMatchObject({ step: 1, weight: 10 })
    // ...and the post step is told there is nothing of this run's to put back.
    expect(moved.map((m) => m.moved)).toEqual([true, false])
  })

  it("reads the lock and the routes together as a hold ends; a lost lock decides even when the routes' read failed", async () => {
    const routeReads = () => aws.elb.commandCalls(DescribeListenersCommand).length
    const overlapped: boolean[] = []
    const { run } = await stepsRun({
      checks: [watcher().check],
      confirmHeld: async () => {
        const before = routeReads()
        await new Promise((r) => setTimeout(r, 5))
        overlapped.push(routeReads() > before)
      }
    })
    expect(await runTrafficSteps(config, ctx, run, report)).toMatchObject({ kind: 'completed' })
    expect(overlapped).toEqual([true, true, true])

    // The lock was taken over, and the read of the routes failed first: the run leaves traffic alone.
    const again = await stepsRun({
      checks: [watcher().check],
      confirmHeld: async () => {
        aws.elb.on(DescribeListenersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
        await new Promise((r) => setTimeout(r, 5))
        throw new LockLostError('This run no longer holds the deploy lock (a rollback holds it now)')
      }
    })
    const writes = aws.writes.length
    expect(
      await runTrafficSteps(
        config,
        ctx,
        again.run,
        newReport({ operation: 'deploy', dryRun: false, version: 'v2' }, clock.now())
      )
    ).toMatchObject({
      kind: 'interrupted',
      by: 'lock'
    })
    expect(aws.writes.length - writes).toBe(1)
  })

  it('reports the weights it read with the lost lock, not the ones it last wrote (chaos seed 187)', async () => {
    const { run } = await stepsRun({
      checks: [watcher().check],
      confirmHeld: async () => {
        // A rollback took the pair over during the hold and has already put everything back.
        aws.addListener(LISTENER, 100, 0)
        throw new LockLostError('This run no longer holds the deploy lock (a rollback holds it now)')
      }
    })
    const outcome = await runTrafficSteps(config, ctx, run, report)

    expect(outcome).toMatchObject({ kind: 'interrupted', by: 'lock' })
    expect(aws.greenHistory()).toEqual([10])
    expect(pairWeights(outcome.routes[0], [BLUE, GREEN])).toEqual({ [BLUE]: 100, [GREEN]: 0 })
  })

  it('stops without touching traffic when a person changed the weights during the hold', async () => {
    const { check } = watcher()
    const { run } = await stepsRun({ checks: [check] })
    clock.onTick = () => {
      if (aws.greenHistory().at(-1) === 10) aws.addListener(LISTENER, 100, 0)
    }
    const outcome = await runTrafficSteps(config, ctx, run, report)
    expect(outcome).toMatchObject({ kind: 'interrupted', by: 'change' })
    expect(aws.greenHistory()).toEqual([10])
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(report.warnings.join('\n')).toMatch(/Traffic was changed by someone else/)
  })

  it('fails the step at the deadline and restores', async () => {
    const { run } = await stepsRun({ checks: [watcher().check], deadline: clock.now() + 90_000 })
    const outcome = await runTrafficSteps(config, ctx, run, report)
    expect(outcome).toMatchObject({ kind: 'failed', restored: true, message: 'timeout passed' })
    expect(aws.greenHistory()).toEqual([10, 50, 0])
  })

  it('an error while shifting restores and names the error', async () => {
    aws.ignoreWrites = 3
    const { run } = await stepsRun({ checks: [watcher().check] })
    const outcome = await runTrafficSteps(config, ctx, run, report)
    expect(outcome).toMatchObject({ kind: 'failed', restored: true })
    expect(outcome.kind === 'failed' && outcome.message).toMatch(/^error while shifting traffic: Weights did not stick/)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
  })

  it('a restore that fails is said loudly, with the weights as they really are', async () => {
    const { check } = watcher((w) => {
      if (w.weight === 10) aws.ignoreWrites = 100
      return w.weight === 10
    })
    const { run, moved } = await stepsRun({ checks: [check] })
    const outcome = await runTrafficSteps(config, ctx, run, report)

    expect(outcome).toMatchObject({ kind: 'failed', restored: false })
    expect(outcome.kind === 'failed' && outcome.message).toMatch(
      /^bad at 10%; restoring the weights FAILED \(Weights did not stick.*\): traffic may still reach web-green, run rollback now$/
    )
    expect(report.warnings).toHaveLength(1)
    expect(outcome.kind === 'failed' && outcome.routes[0].actions).toEqual(aws.listeners.get(LISTENER))
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 90, [GREEN]: 10 })
    // The post step must still restore: traffic is not reported as back.
    expect(moved.map((m) => m.moved)).toEqual([true, true])
  })
})
