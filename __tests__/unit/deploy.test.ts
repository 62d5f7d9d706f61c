import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { SendCommandCommand } from '@aws-sdk/client-ssm'
import { parseConfig, type RawInputs } from '../../src/config/inputs.js'
import { deploy } from '../../src/operations/deploy.js'
import { TAG } from '../../src/records/fleet-records.js'
import {
  BLUE,
  blueLive,
  context,
  FakeAws,
  FakeClock,
  GREEN,
  LISTENER,
  LISTENER_443,
  LOCK
} from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  blueLive(aws, 3)
})
afterEach(() => aws.reset())

function config(extra: RawInputs = {}) {
  return parseConfig(
    {
      'listener-arns': LISTENER,
      commands: './deploy.sh v2',
      version: 'v2',
      'step-wait': '5m',
      alarms: 'web-5xx',
      ...extra
    },
    { region: 'us-east-1' }
  )
}

describe('deploy', () => {
  it('all at once: commands, health, one flip to 100%, held, records and lock released', async () => {
    const ctx = context(clock)
    const report = await deploy(config(), ctx)

    expect(report.result).toBe('succeeded')
    expect(aws.greenHistory()).toEqual([100])
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 0, [GREEN]: 100 })
    expect(aws.ssm.commandCalls(SendCommandCommand)[0].args[0].input.InstanceIds).toEqual(aws.targets.get(GREEN))
    expect(aws.tags.get(GREEN)).toMatchObject({ [TAG.version]: 'v2', [TAG.role]: 'live' })
    expect(aws.tags.get(BLUE)).toMatchObject({ [TAG.version]: 'v1', [TAG.role]: 'previous' })
    expect(
      Object.values(aws.tags.get(BLUE) ?? {})
        .concat(Object.values(aws.tags.get(GREEN) ?? {}))
        .some((v) => v.startsWith('id='))
    ).toBe(false)
    expect(report.timeline).toHaveLength(1)
    expect(report.timeline[0].heldMs).toBeGreaterThanOrEqual(5 * 60_000)
    expect(report.outputs).toMatchObject({
      live: GREEN,
      idle: BLUE,
      previous: BLUE,
      deployed: GREEN,
      commandId: 'cmd-1'
    })
    expect(ctx.saved.at(-1)?.finished).toBe(true)
    // After the hold (its lease renewed on the way): the hold's last look at the lock, one look for
    // both records, and the release deleting on that look.
    const ssmCalls = aws.ssm.calls().map((c) => c.args[0].constructor.name.replace(/Command$/, ''))
    expect(ssmCalls.slice(ssmCalls.lastIndexOf('PutParameter') + 1)).toEqual([
      'GetParameter',
      'GetParameter',
      'DeleteParameter'
    ])
  })

  it('canary: 10, 50, 100 on every route together, each step held with alarms watched', async () => {
    aws.addListener(LISTENER_443, 100, 0)
    const report = await deploy(
      config({ 'listener-arns': `${LISTENER}\n${LISTENER_443}`, strategy: 'canary' }),
      context(clock)
    )

    expect(report.result).toBe('succeeded')
    expect(aws.greenHistory(LISTENER)).toEqual([10, 50, 100])
    expect(aws.greenHistory(LISTENER_443)).toEqual([10, 50, 100])
    expect(report.timeline.map((t) => [t.weight, t.outcome])).toEqual([
      [10, 'held'],
      [50, 'held'],
      [100, 'held']
    ])
    // Several checks during each 5-minute hold, not one at the end.
    expect(aws.cloudwatch.calls().length).toBeGreaterThan(3 * 4)
  })

  it('a last canary step under 100 pauses with the canary recorded', async () => {
    const report = await deploy(config({ strategy: 'canary', 'canary-steps': '10' }), context(clock))
    expect(report.result).toBe('paused')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 90, [GREEN]: 10 })
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('canary')
    expect(aws.tags.get(BLUE)?.[TAG.role]).toBe('live')
  })

  it('a failing instance: no weight is ever written, output shown, fleet recorded failed', async () => {
    aws.command = (id) =>
      id.endsWith('1')
        ? { status: 'Failed', exitCode: 3, output: 'npm ERR! missing script' }
        : { status: 'Success', exitCode: 0 }
    const report = await deploy(config(), context(clock))

    expect(report.result).toBe('failed')
    expect(aws.writes).toHaveLength(0)
    expect(report.commands?.failed).toBe(1)
    const failed = report.commands?.instances.find((i) => i.status === 'Failed')
    expect(failed).toMatchObject({ exitCode: 3, outputTail: expect.stringContaining('npm ERR!') })
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('failed')
    expect(aws.parameters.values.has(LOCK)).toBe(false)
  })

  it('max-errors 1 tolerates one failed instance and goes on', async () => {
    aws.command = (id) => (id.endsWith('1') ? { status: 'Failed', exitCode: 1 } : { status: 'Success', exitCode: 0 })
    const report = await deploy(config({ 'max-errors': '1' }), context(clock))
    expect(report.result).toBe('succeeded')
    expect(aws.greenHistory()).toEqual([100])
  })

  it('command timeout: the command is cancelled and no traffic moves', async () => {
    aws.command = () => ({ status: 'Hang' })
    const report = await deploy(config({ 'command-timeout': '2m' }), context(clock))
    expect(report.result).toBe('failed')
    expect(report.headline).toMatch(/timed out/)
    expect(aws.ssm.calls().some((c) => c.args[0].constructor.name === 'CancelCommandCommand')).toBe(true)
    expect(aws.writes).toHaveLength(0)
  })

  it('an instance that stays unhealthy fails the deploy fast with its reason, before traffic moves', async () => {
    aws.health = (group, id) =>
      group === GREEN && id.endsWith('2')
        ? { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch' }
        : { state: 'healthy' }
    const started = clock.now()
    const report = await deploy(config({ 'health-timeout': '30m' }), context(clock))
    expect(report.result).toBe('failed')
    expect(report.headline).toMatch(/Target\.ResponseCodeMismatch/)
    expect(clock.now() - started).toBeLessThan(5 * 60_000)
    expect(aws.writes).toHaveLength(0)
  })

  it('an alarm firing at the second step restores the starting weights and verifies them', async () => {
    let alarmFrom = Infinity
    aws.alarm = (_name, now) => (now >= alarmFrom ? 'ALARM' : 'OK')
    clock.onTick = () => {
      if (aws.greenHistory().at(-1) === 50 && alarmFrom === Infinity) alarmFrom = clock.now() + 60_000
    }
    const report = await deploy(config({ strategy: 'canary' }), context(clock))

    expect(report.result).toBe('rolled-back')
    expect(aws.greenHistory()).toEqual([10, 50, 0])
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(report.failure).toMatchObject({ step: 2, weight: 50, what: expect.stringContaining('web-5xx') })
    expect(report.timeline.map((t) => t.outcome)).toEqual(['held', 'failed', 'restored'])
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('failed')
    // Read back after the restore: the last describe saw the restored weights.
    const describes = aws.elb.calls().filter((c) => c.args[0].constructor.name === 'DescribeListenersCommand')
    expect(describes.length).toBeGreaterThanOrEqual(4)
  })

  it('a restore that fails is said loudly, and left to the post step with the lock kept', async () => {
    // The alarm fires at 10%, and from then on the listener takes no write (say, an SCP or an outage).
    aws.alarm = () => {
      if (aws.greenHistory().at(-1) !== 10) return 'OK'
      aws.ignoreWrites = 100
      return 'ALARM'
    }
    const ctx = context(clock)
    const report = await deploy(config({ strategy: 'canary' }), ctx)

    expect(report.result).toBe('failed')
    expect(report.headline).toMatch(/NOT restored: run rollback/)
    expect(ctx.log.text()).toMatch(/error: .*restoring the weights FAILED/)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 90, [GREEN]: 10 })
    expect(ctx.saved.at(-1)).toMatchObject({ finished: false, trafficMoved: true })
    expect(aws.parameters.json(LOCK)?.runId).toBe('run-1')
  })

  it('an alarm already in ALARM stops the deploy before anything changes', async () => {
    aws.alarm = () => 'ALARM'
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('failed')
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('passing the deadline during a hold rolls back', async () => {
    // The holds fit in the deadline (3 × 15m < 60m); slow commands use up the rest of it.
    aws.command = () => ({ status: 'Success', exitCode: 0, takesMs: 20 * 60_000 })
    const report = await deploy(
      config({ strategy: 'canary', 'step-wait': '15m', timeout: '60m', 'command-timeout': '30m' }),
      context(clock)
    )
    expect(report.result).toBe('rolled-back')
    expect(report.failure?.what).toMatch(/timeout/)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
  })

  it('weights that never stick fail the step and restore', async () => {
    aws.ignoreWrites = 3
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(report.failure?.what).toMatch(/did not stick/)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
  })

  it('writes back every other action exactly as read', async () => {
    const auth = {
      Type: 'authenticate-oidc' as const,
      Order: 1,
      AuthenticateOidcConfig: {
        Issuer: 'https://idp',
        AuthorizationEndpoint: 'https://idp/a',
        TokenEndpoint: 'https://idp/t',
        UserInfoEndpoint: 'https://idp/u',
        ClientId: 'c'
      }
    }
    aws.addListener(LISTENER, 100, 0, [auth])
    await deploy(config(), context(clock))
    const written = aws.writes[0].actions
    expect(written[0]).toEqual({
      ...auth,
      AuthenticateOidcConfig: { ...auth.AuthenticateOidcConfig, UseExistingClientSecret: true }
    })
    expect(written[1]).toEqual({
      Type: 'forward',
      Order: 2,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: 0 },
          { TargetGroupArn: GREEN, Weight: 100 }
        ]
      }
    })
  })

  it('refuses a deploy while a canary is in progress', async () => {
    aws.addListener(LISTENER, 90, 10)
    await expect(deploy(config(), context(clock))).rejects.toThrow(/canary is in progress.*promote.*rollback/)
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('names instances that SSM cannot reach and sends nothing', async () => {
    aws.offline.add(aws.targets.get(GREEN)![0])
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('failed')
    expect(report.headline).toContain(aws.targets.get(GREEN)![0])
    expect(aws.ssm.commandCalls(SendCommandCommand)).toHaveLength(0)
  })

  it('cancellation mid-canary restores the weights in the main step', async () => {
    const cancel = new AbortController()
    clock.onTick = () => {
      if (aws.greenHistory().at(-1) === 50) cancel.abort(new Error('SIGINT'))
    }
    const ctx = context(clock, cancel.signal)
    const report = await deploy(config({ strategy: 'canary' }), ctx)
    expect(report.result).toBe('rolled-back')
    expect(report.failure?.what).toMatch(/cancelled/)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(ctx.saved.at(-1)).toMatchObject({ finished: true, trafficMoved: false })
  })

  it('dry run reads and plans but makes no change', async () => {
    const ctx = context(clock)
    const report = await deploy(config({ 'dry-run': 'true', strategy: 'canary', 'canary-steps': '10,50' }), ctx)
    expect(report.result).toBe('unchanged')
    expect(report.plan).toMatchObject({
      newFleet: GREEN,
      oldFleet: BLUE,
      pauses: true,
      steps: [{ weight: 10 }, { weight: 50 }]
    })
    expect(report.plan?.restore[LISTENER]).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(aws.mutatingCalls()).toEqual([])
    expect(ctx.log.text()).toMatch(/step 2: 50% of traffic on web-green/)
  })

  it('1,000 instances: 20 commands, followed with one status call per poll round', async () => {
    aws.fleet(GREEN, 1000, 'a')
    aws.command = () => ({ status: 'Success', exitCode: 0, takesMs: 3000 })
    const statusCalls = () =>
      aws.ssm
        .calls()
        .filter((c) =>
          /^(ListCommands|ListCommandInvocations|GetCommandInvocation)Command$/.test(c.args[0].constructor.name)
        ).length
    const perRound: number[] = []
    let callsSoFar = 0
    const sleeps = clock.sleep
    clock.sleep = async (ms, signal) => {
      const now = statusCalls()
      if (now > callsSoFar) perRound.push(now - callsSoFar)
      callsSoFar = now
      return sleeps(ms, signal)
    }
    const report = await deploy(config(), context(clock))
    expect(report.result).toBe('succeeded')
    expect(aws.ssm.commandCalls(SendCommandCommand)).toHaveLength(20)
    expect(perRound.length).toBeGreaterThan(3)
    expect(Math.max(...perRound)).toBe(1)
    expect(
      aws.ssm
        .calls()
        .filter(
          (c) => c.args[0].constructor.name !== 'ListCommandsCommand' && /Invocation/.test(c.args[0].constructor.name)
        )
    ).toHaveLength(0)
  })
})
