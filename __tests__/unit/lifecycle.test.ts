// The beginning and endings every operation shares: the lock and the post-step state around the
// work, and the few ways a run ends.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { AddTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import { DeleteParameterCommand } from '@aws-sdk/client-ssm'
import { LockLostError } from '../../src/config/errors.js'
import { parseConfig, type RawInputs } from '../../src/config/inputs.js'
import { discover, type Discovery } from '../../src/operations/discover.js'
import {
  endAfterFailedSteps,
  endWithNewFleetLive,
  type HeldPair,
  OperationRun,
  type PairClaim,
  type ShiftedFleets,
  withThePair
} from '../../src/operations/lifecycle.js'
import { TAG } from '../../src/records/fleet-records.js'
import { encodeClaim } from '../../src/records/lock-claim.js'
import type { RunReport } from '../../src/report/report.js'
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
import { cleanup } from '../../src/operations/cleanup.js'
import type { Progress } from '../../src/runtime/progress.js'

let clock: FakeClock
let aws: FakeAws
let ctx: ReturnType<typeof context>

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  blueLive(aws, 2)
  ctx = context(clock)
})
afterEach(() => aws.reset())

function config(extra: RawInputs = {}) {
  return parseConfig(
    { 'listener-arns': LISTENER, commands: 'true', version: 'v2', strategy: 'canary', ...extra },
    { region: 'us-east-1' }
  )
}
const found = (): Promise<Discovery> => discover({ listenerArns: [LISTENER], ruleArns: [] }, ctx.clients.elb)
const restore = { [LISTENER]: { [BLUE]: 100, [GREEN]: 0 } }
const claim: PairClaim = { operation: 'deploy', newFleet: GREEN, stableFleet: BLUE, restore, trafficMoved: false }
const lockHolder = () => aws.parameters.json(LOCK)?.runId
const heldBy = (runId: string, runUrl = 'x') =>
  aws.parameters.values.set(LOCK, {
    value: encodeClaim({ runId, runUrl, operation: 'deploy', expiresAt: clock.now() + 60_000 }),
    version: 1
  })

describe('OperationRun', () => {
  it('starts a report now, with the deadline timeout away', () => {
    const run = new OperationRun(config({ timeout: '30m' }), ctx)
    expect(run.report).toMatchObject({
      operation: 'deploy',
      startedAt: clock.now(),
      result: 'unchanged',
      version: 'v2'
    })
    expect(run.deadline).toBe(clock.now() + 30 * 60_000)
  })

  it.each([
    ['succeeded', 'info'],
    ['paused', 'info'],
    ['unchanged', 'info'],
    ['failed', 'error'],
    ['rolled-back', 'error']
  ] as const)('finish(%s) records the result and headline and logs them as %s', (result, level) => {
    const run = new OperationRun(config(), ctx)
    clock.t += 5000
    const report = run.finish(result, 'what happened')
    expect(report).toMatchObject({ result, headline: 'what happened', finishedAt: clock.now() })
    expect(ctx.log.lines).toEqual([`${level}: Result: ${result}. what happened`])
  })

  it('a rollback that put traffic back logs its result as info: it did what it was asked', () => {
    const run = new OperationRun(config({ operation: 'rollback' }), ctx)
    run.finish('rolled-back', 'all traffic on web-blue')
    expect(ctx.log.lines).toEqual(['info: Result: rolled-back. all traffic on web-blue'])
  })

  it('end fills the fleets and routes tables from before and after', async () => {
    const run = new OperationRun(config(), ctx)
    const before = await found()
    aws.addListener(LISTENER, 90, 10)
    const after = await discover({ listenerArns: [LISTENER], ruleArns: [] }, ctx.clients.elb)
    const report = run.end(
      before,
      { routes: after.routes, records: { [GREEN]: { version: 'v2', role: 'canary' } } },
      'paused',
      'paused at 10%'
    )
    expect(report.fleets.map((f) => [f.name, f.roleBefore, f.roleAfter, f.weightBefore, f.weightAfter])).toEqual([
      ['web-blue', 'live', 'live', 100, 90],
      ['web-green', 'idle', 'canary', 0, 10]
    ])
    expect(report.fleets[1].versionAfter).toBe('v2')
    expect(report.routes).toEqual([
      {
        arn: LISTENER,
        label: 'web listener f2f7dc8e',
        before: { [BLUE]: 100, [GREEN]: 0 },
        after: { [BLUE]: 90, [GREEN]: 10 }
      }
    ])
    expect(report.outputs.weights).toEqual({ [BLUE]: 90, [GREEN]: 10 })
  })

  it('dryRun ends unchanged with the routes as they were', async () => {
    const run = new OperationRun(config({ 'dry-run': 'true' }), ctx)
    const report = run.dryRun(await found(), 'Dry run: would deploy')
    expect(report.result).toBe('unchanged')
    expect(report.routes[0].after).toEqual(report.routes[0].before)
    expect(report.fleets.map((f) => f.roleAfter)).toEqual(['live', 'idle'])
  })
})

describe('withThePair', () => {
  const ended = (run: OperationRun) => run.finish('succeeded', 'done')

  it('saves the progress with the lock before the work, and runs the work holding the lock', async () => {
    const run = new OperationRun(config(), ctx)
    let seen: { saved: number; lock?: unknown } | undefined
    await withThePair(run, await found(), claim, async (pair) => {
      seen = { saved: ctx.saved.length, lock: lockHolder() }
      await expect(pair.confirmHeld()).resolves.toBeUndefined()
      expect(pair.lock.name).toBe(LOCK)
      return ended(run)
    })
    expect(seen).toEqual({ saved: 2, lock: 'run-1' })
    // Before the create: the lock's name only, so that a runner killed right after it is released.
    expect(ctx.saved[0]).toEqual({
      region: 'us-east-1',
      runId: 'run-1',
      operation: 'deploy',
      pair: [BLUE, GREEN],
      listenerArns: [LISTENER],
      ruleArns: [],
      trafficMoved: false,
      commandIds: [],
      lockName: LOCK,
      lockTaken: false,
      autoRollback: true,
      finished: false
    })
    expect(ctx.saved[1]).toEqual({
      region: 'us-east-1',
      runId: 'run-1',
      operation: 'deploy',
      pair: [BLUE, GREEN],
      newFleet: GREEN,
      stableFleet: BLUE,
      listenerArns: [LISTENER],
      ruleArns: [],
      restore,
      expected: { [LISTENER]: [{ [BLUE]: 100, [GREEN]: 0 }] },
      trafficMoved: false,
      commandIds: [],
      lockName: LOCK,
      lockTaken: true,
      targetSticky: false,
      autoRollback: true,
      finished: false
    })
  })

  it('saves commands sent and traffic moved as they happen', async () => {
    const run = new OperationRun(config(), ctx)
    await withThePair(run, await found(), claim, async (pair) => {
      expect(pair.hasSentCommands).toBe(false)
      pair.commandsSent(['cmd-1'])
      expect(ctx.saved.at(-1)).toMatchObject({ commandIds: ['cmd-1'], trafficMoved: false })
      pair.trafficMoved(true)
      expect(ctx.saved.at(-1)).toMatchObject({ commandIds: ['cmd-1'], trafficMoved: true, finished: false })
      expect([pair.hasSentCommands, pair.hasTrafficMoved]).toEqual([true, true])
      pair.trafficMoved(false)
      expect(pair.hasTrafficMoved).toBe(false)
      return ended(run)
    })
    expect(ctx.saved.map((p) => [p.commandIds.length, p.trafficMoved, p.finished])).toEqual([
      [0, false, false],
      [0, false, false],
      [1, false, false],
      [1, true, false],
      [1, false, false],
      [1, false, true]
    ])
  })

  it('releases the lock and saves the run finished when the work returns', async () => {
    const run = new OperationRun(config(), ctx)
    const report = await withThePair(run, await found(), claim, async () => ended(run))
    expect(report).toBe(run.report)
    expect(aws.parameters.values.has(LOCK)).toBe(false)
    expect(ctx.saved.at(-1)?.finished).toBe(true)
  })

  it('releases the lock and saves the run finished when the work throws, and rethrows', async () => {
    const run = new OperationRun(config(), ctx)
    const boom = new Error('SSM throttled beyond the retries')
    await expect(
      withThePair(run, await found(), claim, async (pair) => {
        pair.commandsSent(['cmd-1'])
        throw boom
      })
    ).rejects.toBe(boom)
    expect(aws.parameters.values.has(LOCK)).toBe(false)
    expect(ctx.saved.at(-1)).toMatchObject({ finished: true, commandIds: ['cmd-1'] })
  })

  it('keeps the lock and leaves the run unfinished for the post step after leaveToPostStep', async () => {
    const run = new OperationRun(config(), ctx)
    await withThePair(run, await found(), claim, async (pair) => {
      pair.trafficMoved(true)
      pair.leaveToPostStep()
      return run.finish('failed', 'traffic was NOT restored')
    })
    expect(lockHolder()).toBe('run-1')
    expect(ctx.saved.at(-1)).toMatchObject({ finished: false, trafficMoved: true, lockName: LOCK })
    expect(aws.ssm.commandCalls(DeleteParameterCommand)).toHaveLength(0)
  })

  it('still ends the run when the lock cannot be released, with a warning', async () => {
    aws.ssm.on(DeleteParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
    const run = new OperationRun(config(), ctx)
    await withThePair(run, await found(), claim, async () => ended(run))
    expect(ctx.log.text()).toMatch(/warning: Could not release the deploy lock: Rate exceeded/)
    expect(ctx.saved.at(-1)?.finished).toBe(true)
  })

  it('refuses a pair another live run holds: no work, nothing left for the post step, nothing written', async () => {
    heldBy('run-99', 'https://github.com/o/r/actions/runs/99/attempts/1')
    const work = jest.fn(async (): Promise<RunReport> => ended(run))
    const run = new OperationRun(config(), ctx)
    await expect(withThePair(run, await found(), claim, work)).rejects.toThrow(/runs\/99/)
    expect(work).not.toHaveBeenCalled()
    expect(ctx.saved.map((p) => [p.lockTaken, p.finished])).toEqual([
      [false, false],
      [false, true]
    ])
    // One create that found the lock taken; nothing changed.
    expect(aws.mutatingCalls()).toEqual(['PutParameterCommand'])
    expect(lockHolder()).toBe('run-99')
  })

  it('a runner killed right after the lock was created: its post step knows the lock and releases it', async () => {
    // What the post step would read had the runner died at the create: the state saved before it.
    let savedAtCreate: Progress | undefined
    aws.parameters.beforeWrite = (write) => {
      if (write.op === 'put' && write.name === LOCK && !write.overwrite) savedAtCreate ??= ctx.saved.at(-1)
    }
    const run = new OperationRun(config(), ctx)
    await withThePair(run, await found(), claim, async () => ended(run))
    expect(savedAtCreate).toMatchObject({ lockName: LOCK, lockTaken: false, finished: false })

    // The create went through, then the runner was killed: the claim is this run's.
    heldBy('run-1')
    const log = new ListLog()
    const outcome = await cleanup(savedAtCreate, ctx.clients, log, clock)
    expect(outcome).toMatchObject({ releasedLock: true, restored: false, handedOver: false, cancelledCommands: 0 })
    expect(aws.parameters.values.has(LOCK)).toBe(false)

    // Killed while another run held the lock (lock-wait): nothing of this run's to clean, nothing said as news.
    heldBy('run-99')
    const quiet = new ListLog()
    const waited = await cleanup(savedAtCreate, ctx.clients, quiet, clock)
    expect(waited).toMatchObject({ releasedLock: false, handedOver: false })
    expect(lockHolder()).toBe('run-99')
    expect(quiet.text()).toMatch(/info: The main step stopped before it held the deploy lock; nothing to clean up/)
    expect(quiet.text()).not.toMatch(/no longer holds/)
  })

  it('with force takes the lock from a live holder and works', async () => {
    heldBy('run-99', 'someone')
    const run = new OperationRun(config({ operation: 'rollback' }), ctx)
    let held: unknown
    await withThePair(run, await found(), { operation: 'rollback', trafficMoved: false, force: true }, async () => {
      held = lockHolder()
      return ended(run)
    })
    expect(held).toBe('run-1')
    expect(ctx.log.text()).toMatch(/warning: Taking the deploy lock from someone/)
    expect(aws.parameters.values.has(LOCK)).toBe(false)
  })

  it("confirmHeld throws once another run took the lock, which is then not this run's to release", async () => {
    const run = new OperationRun(config(), ctx)
    await withThePair(run, await found(), claim, async (pair) => {
      heldBy('person')
      await expect(pair.confirmHeld()).rejects.toThrow(LockLostError)
      return ended(run)
    })
    expect(lockHolder()).toBe('person')
    // The run that lost the pair leaves it finished: its post step has nothing to do.
    expect(ctx.saved.at(-1)?.finished).toBe(true)
  })
})

describe('endings after traffic moved', () => {
  const fleets = (): ShiftedFleets => ({
    newFleet: GREEN,
    stableFleet: BLUE,
    records: { [GREEN]: { version: 'v2', role: 'canary' }, [BLUE]: { version: 'v1', role: 'live' } }
  })

  async function endFailed(restored: boolean, autoRollback: boolean) {
    const run = new OperationRun(config({ 'auto-rollback': String(autoRollback) }), ctx)
    const before = await found()
    let left = false
    const report = await withThePair(run, before, claim, async (pair: HeldPair) => {
      const watched: HeldPair = Object.assign(Object.create(pair) as HeldPair, {
        leaveToPostStep: () => {
          left = true
          pair.leaveToPostStep()
        }
      })
      const outcome = {
        kind: 'failed' as const,
        routes: before.routes,
        restored,
        cancelled: false,
        message: 'alarm web-5xx in ALARM'
      }
      return endAfterFailedSteps(run, watched, before, fleets(), outcome, 'Deploy of v2')
    })
    return { report, left }
  }

  it('after a restore: rolled back, the new fleet recorded failed, the lock released', async () => {
    const { report, left } = await endFailed(true, true)
    expect(report.result).toBe('rolled-back')
    expect(report.headline).toBe('Deploy of v2 rolled back: alarm web-5xx in ALARM; all traffic is back on web-blue')
    expect(aws.tags.get(GREEN)).toMatchObject({ [TAG.role]: 'failed', [TAG.version]: 'v2' })
    expect(report.fleets.map((f) => f.roleAfter)).toEqual(['live', 'failed'])
    expect(left).toBe(false)
    expect(aws.parameters.values.has(LOCK)).toBe(false)
  })

  it('without a restore: failed, loudly, with the lock left to the post step', async () => {
    const { report, left } = await endFailed(false, true)
    expect(report.result).toBe('failed')
    expect(report.headline).toBe('Deploy of v2 failed: alarm web-5xx in ALARM; traffic was NOT restored: run rollback')
    expect(left).toBe(true)
    expect(lockHolder()).toBe('run-1')
    expect(ctx.log.text()).toMatch(/error: Result: failed\./)
  })

  it('with auto-rollback off: failed, and nothing for the post step to undo', async () => {
    const { report, left } = await endFailed(false, false)
    expect(report.result).toBe('failed')
    expect(left).toBe(false)
    expect(aws.parameters.values.has(LOCK)).toBe(false)
    expect(ctx.saved.at(-1)?.finished).toBe(true)
  })

  it('endWithNewFleetLive records live and previous and sets the outputs', async () => {
    const run = new OperationRun(config(), ctx)
    const before = await found()
    const report = await withThePair(run, before, claim, async (pair) => {
      aws.addListener(LISTENER, 0, 100)
      const after = await found()
      return endWithNewFleetLive(run, pair, before, fleets(), after.routes, 'Deployed v2 to web-green')
    })
    expect(report).toMatchObject({ result: 'succeeded', headline: 'Deployed v2 to web-green' })
    expect(aws.tags.get(GREEN)).toMatchObject({ [TAG.role]: 'live', [TAG.version]: 'v2' })
    expect(aws.tags.get(BLUE)).toMatchObject({ [TAG.role]: 'previous', [TAG.version]: 'v1' })
    expect(report.outputs).toMatchObject({
      live: GREEN,
      idle: BLUE,
      previous: BLUE,
      deployed: GREEN,
      weights: { [BLUE]: 0, [GREEN]: 100 }
    })
    expect(report.fleets.map((f) => [f.roleAfter, f.weightAfter])).toEqual([
      ['previous', 0],
      ['live', 100]
    ])
  })

  it('a record that cannot be written after the flip is a warning, not a failure', async () => {
    aws.elb.on(AddTagsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
    const run = new OperationRun(config(), ctx)
    const before = await found()
    const report = await withThePair(run, before, claim, (pair) =>
      endWithNewFleetLive(run, pair, before, fleets(), before.routes, 'Deployed')
    )
    expect(report.result).toBe('succeeded')
    expect(report.warnings).toEqual([
      expect.stringMatching(/^Could not record web-green as live \(Rate exceeded\)/),
      expect.stringMatching(/^Could not record web-blue as previous \(Rate exceeded\)/)
    ])
  })
})
