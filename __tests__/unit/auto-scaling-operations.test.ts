// Operations on fleets that are Auto Scaling groups, on the stateful fake (its groups launch
// instances that are InService and registered bootMs later): a cold idle fleet scaled and
// deployed, the group held still and let go (post step included), retire, and a rollback that
// brings a retired fleet back. Plain fleets are checked to behave as before.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { SendCommandCommand } from '@aws-sdk/client-ssm'
import { parseConfig, type RawInputs } from '../../src/config/inputs.js'
import { cleanup } from '../../src/operations/cleanup.js'
import { deploy } from '../../src/operations/deploy.js'
import { retire } from '../../src/operations/retire.js'
import { rollback } from '../../src/operations/rollback.js'
import { status } from '../../src/operations/status.js'
import { TAG } from '../../src/records/fleet-records.js'
import { renderSummary } from '../../src/report/summary.js'
import { BLUE, blueLive, context, FakeAws, FakeClock, GREEN, LISTENER, ListLog } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws

const HOLD_STILL = ['Launch', 'Terminate', 'ReplaceUnhealthy', 'AZRebalance']

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  blueLive(aws, 3)
})
afterEach(() => aws.reset())

function config(extra: RawInputs = {}) {
  return parseConfig(
    { 'listener-arns': LISTENER, commands: './deploy.sh v2', version: 'v2', 'step-wait': '1m', ...extra },
    { region: 'us-east-1' }
  )
}

/** Blue live on a group of 3; green idle on a cold group of `greenSize` (nothing registered when 0). */
function groups(greenSize: number, green: Parameters<FakeAws['addGroup']>[3] = {}) {
  aws.addGroup('web-blue-asg', BLUE, 3)
  if (greenSize === 0) aws.targets.set(GREEN, [])
  else aws.targets.set(GREEN, (aws.targets.get(GREEN) ?? []).slice(0, greenSize))
  return aws.addGroup('web-green-asg', GREEN, greenSize, green)
}

describe('plain fleets behave as before', () => {
  it('deploy: Auto Scaling is only asked, nothing is written to it or to Parameter Store, the report has no group', async () => {
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('succeeded')
    expect(aws.autoScalingCalls()).toEqual(['DescribeAutoScalingInstances'])
    expect(aws.parameters.size).toBe(0)
    expect(report.autoScaling).toBeUndefined()
    expect(report.fleets.every((f) => f.autoScaling === undefined)).toBe(true)
    expect(renderSummary(report)).not.toMatch(/Auto Scaling/)
  })

  it('a role that may not describe groups: a warning, and the plain deploy', async () => {
    aws.autoScaling.onAnyCommand().rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }))
    const ctx = context(clock)
    const report = await deploy(config(), ctx)
    expect(report.result).toBe('succeeded')
    expect(ctx.log.text()).toMatch(/warning: Auto Scaling groups were not looked up \(AccessDenied/)
  })
})

describe('deploy to a cold idle fleet', () => {
  it('scales it to the live size, waits, holds it still, deploys to all, records the version, resumes exactly what it suspended', async () => {
    const green = groups(0, { suspended: ['AZRebalance'] })
    const ctx = context(clock)
    const report = await deploy(config(), ctx)

    expect(report.result).toBe('succeeded')
    expect(green.desiredCapacity).toBe(3)
    const sentTo = aws.ssm.commandCalls(SendCommandCommand)[0].args[0].input.InstanceIds
    expect(sentTo).toEqual(green.instances.map((i) => i.id))
    expect(sentTo).toHaveLength(3)
    expect(aws.parameters.get('/bluegreen/fleet/web-green/version')).toBe('v2')
    // Suspended before the commands, resumed at the end; the user's own AZRebalance stays.
    expect(aws.autoScalingCalls().filter((c) => /Suspend|Resume/.test(c))).toEqual([
      'SuspendProcesses',
      'ResumeProcesses'
    ])
    const suspendCall = aws.autoScaling.calls().find((c) => c.args[0].constructor.name === 'SuspendProcessesCommand')!
    expect((suspendCall.args[0].input as { ScalingProcesses: string[] }).ScalingProcesses).toEqual([
      'Launch',
      'Terminate',
      'ReplaceUnhealthy'
    ])
    expect(green.suspended).toEqual(['AZRebalance'])
    expect(report.autoScaling).toMatchObject({
      group: 'web-green-asg',
      scaled: { from: 0, to: 3, readyAfterMs: expect.any(Number) },
      suspended: ['Launch', 'Terminate', 'ReplaceUnhealthy'],
      leftAlone: ['AZRebalance'],
      resumed: true,
      versionParameter: '/bluegreen/fleet/web-green/version'
    })
    expect(report.autoScaling!.scaled!.readyAfterMs).toBeGreaterThanOrEqual(aws.bootMs)
    // The post step's state carried the suspension while it lasted, and not after.
    expect(ctx.saved.some((p) => p.suspended?.group === 'web-green-asg')).toBe(true)
    expect(ctx.saved.at(-1)).toMatchObject({ finished: true })
    expect(ctx.saved.at(-1)?.suspended).toBeUndefined()
    const summary = renderSummary(report)
    expect(summary).toMatch(/### Auto Scaling/)
    expect(summary).toMatch(/Scaled\*\* web-green-asg from 0 to 3 instances/)
    expect(summary).toMatch(/Left alone:\*\* AZRebalance/)
  })

  it('a group that may not grow to the live size is refused before anything changes', async () => {
    groups(1, { maxSize: 2 })
    const report = await deploy(config(), context(clock)).catch((e: Error) => e)
    expect(report).toBeInstanceOf(Error)
    expect((report as Error).message).toMatch(
      /web-green-asg can run at most 2 instances \(MaxSize\).*nothing was changed/
    )
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('dry run: the plan says it would scale, and nothing is changed', async () => {
    groups(0)
    const ctx = context(clock)
    const report = await deploy(config({ 'dry-run': 'true' }), ctx)
    expect(report.result).toBe('unchanged')
    expect(report.headline).toMatch(/would scale web-green-asg to 3 instances, deploy v2 to web-green/)
    expect(report.plan?.prepare?.[0]).toMatch(/scale web-green-asg from 0 to 3 instances/)
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('failing commands: no version recorded, the processes are resumed anyway', async () => {
    const green = groups(3)
    aws.command = () => ({ status: 'Failed', exitCode: 1, output: 'boom' })
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('failed')
    expect(aws.parameters.has('/bluegreen/fleet/web-green/version')).toBe(false)
    expect(green.suspended).toEqual([])
    expect(report.autoScaling?.resumed).toBe(true)
  })

  it('cancelled mid-canary: weights restored and the group let go in the main step', async () => {
    const green = groups(3)
    const abort = new AbortController()
    clock.onTick = () => {
      if (aws.greenHistory().length > 0) abort.abort(new Error('cancelled'))
    }
    const ctx = context(clock, abort.signal)
    const report = await deploy(config({ strategy: 'canary', 'step-wait': '10m' }), ctx)
    expect(report.result).toBe('rolled-back')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(green.suspended).toEqual([])
    expect(ctx.saved.at(-1)?.suspended).toBeUndefined()
  })

  it('a resume that fails is said loudly and left to the post step, which resumes exactly that', async () => {
    const green = groups(3)
    let failResume = true
    const ctx = context(clock)
    const original = ctx.clients.autoScaling.send.bind(ctx.clients.autoScaling)
    ctx.clients.autoScaling.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
      if (failResume && command.constructor.name === 'ResumeProcessesCommand') {
        return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
      }
      return (original as (...a: unknown[]) => Promise<unknown>)(command, ...rest)
    }) as typeof ctx.clients.autoScaling.send
    const report = await deploy(config(), ctx)
    expect(report.result).toBe('succeeded')
    expect(report.autoScaling?.resumed).toBe(false)
    expect(ctx.log.text()).toMatch(
      /warning: Could not resume Launch, Terminate, ReplaceUnhealthy, AZRebalance on web-green-asg/
    )
    expect(green.suspended).toEqual(HOLD_STILL)
    const state = ctx.saved.at(-1)!
    expect(state).toMatchObject({ finished: true, suspended: { group: 'web-green-asg', processes: HOLD_STILL } })

    failResume = false
    green.suspended.push('AlarmNotification') // suspended by someone else meanwhile: left alone
    const outcome = await cleanup(state, context(clock).clients, new ListLog(), clock)
    expect(outcome.resumedProcesses).toEqual(HOLD_STILL)
    expect(green.suspended).toEqual(['AlarmNotification'])
  })
})

describe('post step', () => {
  it('a main step killed while the group was held still: the post step restores and resumes', async () => {
    const green = groups(3)
    const abort = new AbortController()
    const ctx = context(clock, abort.signal)
    // Killed during the first hold: the last saved state is what the post step gets.
    clock.onTick = () => {
      if (aws.greenHistory().length > 0) abort.abort(new Error('killed'))
    }
    await deploy(config({ strategy: 'canary', 'step-wait': '10m' }), ctx)
    const killedState = ctx.saved.find((p) => p.trafficMoved && p.suspended)!
    expect(killedState.suspended).toEqual({ group: 'web-green-asg', processes: HOLD_STILL })
    green.suspended = [...HOLD_STILL, 'HealthCheck'] // as the killed run left it, plus the user's own
    aws.addListener(LISTENER, 90, 10)
    const log = new ListLog()
    const outcome = await cleanup({ ...killedState, finished: false }, context(clock).clients, log, clock)
    expect(outcome.restored).toBe(true)
    expect(outcome.resumedProcesses).toEqual(HOLD_STILL)
    expect(green.suspended).toEqual(['HealthCheck'])
    expect(log.text()).toMatch(/resumed Launch, Terminate, ReplaceUnhealthy, AZRebalance/)
  })
})

describe('retire', () => {
  function afterDeploy() {
    // Green took v2 and is live; blue (v1, a group of 3 with MinSize 1) is the previous fleet.
    aws.addListener(LISTENER, 0, 100)
    aws.tags.set(GREEN, { [TAG.version]: 'v2', [TAG.role]: 'live' })
    aws.tags.set(BLUE, { [TAG.version]: 'v1', [TAG.role]: 'previous' })
    aws.addGroup('web-green-asg', GREEN, 3)
    return aws.addGroup('web-blue-asg', BLUE, 3, { minSize: 1 })
  }

  it('scales the previous fleet to zero (MinSize too) and records it, then status shows it retired', async () => {
    const blue = afterDeploy()
    const report = await retire(config({ operation: 'retire' }), context(clock))
    expect(report.result).toBe('succeeded')
    expect(report.headline).toMatch(/^Retired web-blue: web-blue-asg scaled from 3 to 0 instances/)
    expect(blue).toMatchObject({ minSize: 0, desiredCapacity: 0 })
    expect(JSON.parse(aws.parameters.get('/bluegreen/fleet/web-blue/retired')!)).toMatchObject({
      group: 'web-blue-asg',
      minSize: 1,
      desiredCapacity: 3,
      by: 'https://github.com/o/r/actions/runs/1/attempts/1'
    })
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 0, [GREEN]: 100 })

    const ctx = context(clock)
    const seen = await status(config({ operation: 'status' }), ctx)
    expect(seen.headline).toMatch(/web-blue is idle \(version v1\), retired/)
    expect(seen.fleets.find((f) => f.targetGroupArn === BLUE)?.autoScaling?.retired).toMatchObject({
      desiredCapacity: 3
    })
    expect(renderSummary(seen)).toMatch(/\*\*retired\*\*/)
    const again = await retire(config({ operation: 'retire' }), context(clock))
    expect(again.result).toBe('unchanged')
  })

  it('refuses a canary in progress and a plain fleet; a dry run changes nothing', async () => {
    afterDeploy()
    aws.addListener(LISTENER, 50, 50)
    await expect(retire(config({ operation: 'retire' }), context(clock))).rejects.toThrow(
      /finish the canary with promote/
    )
    aws.addListener(LISTENER, 0, 100)
    aws.groups.delete('web-blue-asg')
    await expect(retire(config({ operation: 'retire' }), context(clock))).rejects.toThrow(
      /web-blue is not an Auto Scaling group/
    )
    afterDeploy()
    const dry = await retire(config({ operation: 'retire', 'dry-run': 'true' }), context(clock))
    expect(dry.headline).toMatch(/would scale web-blue-asg from 3 to 0 instances \(MinSize 1 to 0\)/)
    expect(aws.mutatingCalls()).toEqual([])
  })
})

describe('rollback to a retired fleet', () => {
  async function retired() {
    aws.addListener(LISTENER, 0, 100)
    aws.tags.set(GREEN, { [TAG.version]: 'v2', [TAG.role]: 'live' })
    aws.tags.set(BLUE, { [TAG.version]: 'v1', [TAG.role]: 'previous' })
    aws.addGroup('web-green-asg', GREEN, 3)
    const blue = aws.addGroup('web-blue-asg', BLUE, 3, { minSize: 1 })
    await retire(config({ operation: 'retire' }), context(clock))
    aws.scale() // the group terminates its instances
    expect(aws.targets.get(BLUE)).toEqual([])
    return blue
  }

  it('scales it back to the live size with its MinSize, waits until healthy, flips, and says how long it took', async () => {
    const blue = await retired()
    const ctx = context(clock)
    const started = clock.now()
    const report = await rollback(config({ operation: 'rollback' }), ctx)
    expect(report.result).toBe('rolled-back')
    expect(blue).toMatchObject({ minSize: 1, desiredCapacity: 3 })
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(report.headline).toMatch(/web-blue-asg was scaled from 0 to 3 instances and healthy in \d+s/)
    expect(aws.parameters.has('/bluegreen/fleet/web-blue/retired')).toBe(false)
    // Traffic moved only once the new instances had booted (InService) and were healthy.
    expect(aws.writes).toHaveLength(1)
    expect(aws.writes[0].at - started).toBeGreaterThanOrEqual(aws.bootMs)
    expect(report.fleets.find((f) => f.targetGroupArn === BLUE)?.instances).toHaveLength(3)
  })

  it('instances that never get healthy: traffic stays, the error says what was missing', async () => {
    await retired()
    aws.health = (group) =>
      group === BLUE ? { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch' } : { state: 'healthy' }
    const report = await rollback(config({ operation: 'rollback', 'health-timeout': '2m' }), context(clock)).catch(
      (e: Error) => e
    )
    expect((report as Error).message).toMatch(
      /web-blue-asg was not ready after health-timeout \(120s\): not healthy: .* unhealthy/
    )
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 0, [GREEN]: 100 })
  })

  it('cancelled while it scales back: no traffic moved, the lock released', async () => {
    await retired()
    const abort = new AbortController()
    clock.onTick = () => abort.abort(new Error('cancelled'))
    const ctx = context(clock, abort.signal)
    await expect(rollback(config({ operation: 'rollback' }), ctx)).rejects.toThrow('cancelled')
    expect(aws.writes).toEqual([])
    expect(Object.keys(aws.tags.get(BLUE) ?? {})).not.toContain(TAG.lock)
    expect(ctx.saved.at(-1)).toMatchObject({ finished: true, trafficMoved: false })
  })

  it('a healthy previous fleet is rolled back to at once, without asking Auto Scaling', async () => {
    aws.addListener(LISTENER, 0, 100)
    aws.tags.set(BLUE, { [TAG.version]: 'v1', [TAG.role]: 'previous' })
    const report = await rollback(config({ operation: 'rollback' }), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(aws.autoScalingCalls()).toEqual([])
  })
})

describe('deploy to a retired fleet', () => {
  it('brings it back to the live size and forgets it was retired', async () => {
    aws.addGroup('web-blue-asg', BLUE, 3)
    aws.targets.set(GREEN, [])
    aws.addGroup('web-green-asg', GREEN, 0)
    aws.parameters.set(
      '/bluegreen/fleet/web-green/retired',
      '{"group":"web-green-asg","minSize":0,"desiredCapacity":3}'
    )
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('succeeded')
    expect(aws.parameters.has('/bluegreen/fleet/web-green/retired')).toBe(false)
  })
})
