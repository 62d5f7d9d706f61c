// The beginning and endings every operation shares: the lock and the post-step state around the
// work, and the few ways a run ends.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { AddTagsCommand, RemoveTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
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
import { decodeLock, encodeLock, TAG } from '../../src/records/fleet-records.js'
import type { RunReport } from '../../src/report/report.js'
import { BLUE, blueLive, context, FakeAws, FakeClock, GREEN, LISTENER } from '../__fixtures__/fake-aws.js'

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
const lockOn = (arn: string) => decodeLock(aws.tags.get(arn)?.[TAG.lock])

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
    let seen: { saved: number; lock?: string } | undefined
    await withThePair(run, await found(), claim, async (pair) => {
      seen = { saved: ctx.saved.length, lock: lockOn(BLUE)?.id }
      expect(await pair.stillHoldsLock()).toBe(true)
      expect(pair.lockArn).toBe(BLUE)
      return ended(run)
    })
    expect(seen).toEqual({ saved: 1, lock: 'run-1' })
    expect(ctx.saved[0]).toEqual({
      region: 'us-east-1',
      runId: 'run-1',
      pair: [BLUE, GREEN],
      newFleet: GREEN,
      stableFleet: BLUE,
      listenerArns: [LISTENER],
      ruleArns: [],
      restore,
      trafficMoved: false,
      commandIds: [],
      lockArn: BLUE,
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
    expect(aws.tags.get(BLUE)?.[TAG.lock]).toBeUndefined()
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
    expect(aws.tags.get(BLUE)?.[TAG.lock]).toBeUndefined()
    expect(ctx.saved.at(-1)).toMatchObject({ finished: true, commandIds: ['cmd-1'] })
  })

  it('keeps the lock and leaves the run unfinished for the post step after leaveToPostStep', async () => {
    const run = new OperationRun(config(), ctx)
    await withThePair(run, await found(), claim, async (pair) => {
      pair.trafficMoved(true)
      pair.leaveToPostStep()
      return run.finish('failed', 'traffic was NOT restored')
    })
    expect(lockOn(BLUE)?.id).toBe('run-1')
    expect(ctx.saved.at(-1)).toMatchObject({ finished: false, trafficMoved: true, lockArn: BLUE })
    expect(aws.elb.commandCalls(RemoveTagsCommand)).toHaveLength(0)
  })

  it('still ends the run when the lock cannot be released, with a warning', async () => {
    aws.elb.on(RemoveTagsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
    const run = new OperationRun(config(), ctx)
    await withThePair(run, await found(), claim, async () => ended(run))
    expect(ctx.log.text()).toMatch(/warning: Could not release the deploy lock: Rate exceeded/)
    expect(ctx.saved.at(-1)?.finished).toBe(true)
  })

  it('refuses a pair another live run holds: no work, nothing saved, nothing written', async () => {
    const holder = 'https://github.com/o/r/actions/runs/99/attempts/1'
    aws.tags.set(BLUE, { [TAG.lock]: encodeLock({ id: 'run-99', holder, expiresAt: clock.now() + 600_000 }) })
    const work = jest.fn(async (): Promise<RunReport> => ended(run))
    const run = new OperationRun(config(), ctx)
    await expect(withThePair(run, await found(), claim, work)).rejects.toThrow(/runs\/99/)
    expect(work).not.toHaveBeenCalled()
    expect(ctx.saved).toEqual([])
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('with force takes the lock from a live holder and works', async () => {
    aws.tags.set(BLUE, {
      [TAG.lock]: encodeLock({ id: 'run-99', holder: 'someone', expiresAt: clock.now() + 600_000 })
    })
    const run = new OperationRun(config({ operation: 'rollback' }), ctx)
    let held: string | undefined
    await withThePair(run, await found(), { operation: 'rollback', trafficMoved: false, force: true }, async () => {
      held = lockOn(BLUE)?.id
      return ended(run)
    })
    expect(held).toBe('run-1')
    expect(ctx.log.text()).toMatch(/warning: Taking the deploy lock from someone/)
    expect(aws.tags.get(BLUE)?.[TAG.lock]).toBeUndefined()
  })

  it('stillHoldsLock turns false once another run took the lock', async () => {
    const run = new OperationRun(config(), ctx)
    await withThePair(run, await found(), claim, async (pair) => {
      aws.tags.set(BLUE, { [TAG.lock]: encodeLock({ id: 'person', holder: 'x', expiresAt: clock.now() + 60_000 }) })
      expect(await pair.stillHoldsLock()).toBe(false)
      return ended(run)
    })
    // The other run's lock is not this run's to release.
    expect(lockOn(BLUE)?.id).toBe('person')
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
    expect(aws.tags.get(BLUE)?.[TAG.lock]).toBeUndefined()
  })

  it('without a restore: failed, loudly, with the lock left to the post step', async () => {
    const { report, left } = await endFailed(false, true)
    expect(report.result).toBe('failed')
    expect(report.headline).toBe('Deploy of v2 failed: alarm web-5xx in ALARM; traffic was NOT restored: run rollback')
    expect(left).toBe(true)
    expect(lockOn(BLUE)?.id).toBe('run-1')
    expect(ctx.log.text()).toMatch(/error: Result: failed\./)
  })

  it('with auto-rollback off: failed, and nothing for the post step to undo', async () => {
    const { report, left } = await endFailed(false, false)
    expect(report.result).toBe('failed')
    expect(left).toBe(false)
    expect(aws.tags.get(BLUE)?.[TAG.lock]).toBeUndefined()
    expect(ctx.saved.at(-1)?.finished).toBe(true)
  })

  it('endWithNewFleetLive records live and previous and sets the outputs', async () => {
    const run = new OperationRun(config(), ctx)
    const before = await found()
    aws.addListener(LISTENER, 0, 100)
    const after = await found()
    const report = await endWithNewFleetLive(run, before, fleets(), after.routes, 'Deployed v2 to web-green')
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
    const report = await endWithNewFleetLive(run, before, fleets(), before.routes, 'Deployed')
    expect(report.result).toBe('succeeded')
    expect(report.warnings).toEqual([
      expect.stringMatching(/^Could not record web-green as live \(Rate exceeded\)/),
      expect.stringMatching(/^Could not record web-blue as previous \(Rate exceeded\)/)
    ])
  })
})
