// Scenarios of the run-once hooks, the preview route and the contract guard, on the stateful AWS
// fake: what reaches which instance, in which order against the weight writes, and what every
// ending leaves behind.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { SendCommandCommand } from '@aws-sdk/client-ssm'
import { CreateRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import { parseConfig, type RawInputs } from '../../src/config/inputs.js'
import { cleanup } from '../../src/operations/cleanup.js'
import { deploy } from '../../src/operations/deploy.js'
import { promote } from '../../src/operations/promote.js'
import { rollback } from '../../src/operations/rollback.js'
import { status } from '../../src/operations/status.js'
import { PREVIEW_TAG } from '../../src/plan/preview-rule.js'
import { CONTRACT_TAG, decodeContract } from '../../src/records/contract-record.js'
import { TAG } from '../../src/records/fleet-records.js'
import { renderSummary } from '../../src/report/summary.js'
import {
  BLUE,
  blueLive,
  context,
  FakeAws,
  FakeClock,
  GREEN,
  LISTENER,
  LISTENER_443,
  ListLog,
  RULE
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
      'step-wait': '2m',
      alarms: 'web-5xx',
      ...extra
    },
    { region: 'us-east-1' }
  )
}

const sends = () => aws.ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input)
const previewRules = () => [...aws.ruleMeta.entries()].filter(([arn]) => aws.tags.get(arn)?.[PREVIEW_TAG])
const firstGreen = () => [...(aws.targets.get(GREEN) ?? [])].sort()[0]

describe('before-traffic-commands', () => {
  const MIGRATE = 'python manage.py migrate app 0042'

  it('run once, on exactly one instance of the new fleet, after the deploy commands and before the first shift', async () => {
    const report = await deploy(config({ strategy: 'canary', 'before-traffic-commands': MIGRATE }), context(clock))

    expect(report.result).toBe('succeeded')
    const [deployCommands, hook, ...rest] = sends()
    expect(rest).toEqual([])
    expect(deployCommands.InstanceIds).toEqual(aws.targets.get(GREEN))
    expect(hook.InstanceIds).toEqual([firstGreen()])
    expect(hook.DocumentName).toBe('AWS-RunShellScript')
    expect(hook.Parameters?.commands).toEqual([MIGRATE])
    expect(hook.MaxConcurrency).toBe('1')
    expect(hook.MaxErrors).toBe('0')
    // The order against the traffic: all deploy commands, the hook, then the first weight.
    const order = aws.events.filter((e) => /^(send|write)/.test(e))
    expect(order.slice(0, 3)).toEqual([
      `send ${aws.targets.get(GREEN)?.join(',')}`,
      `send ${firstGreen()}`,
      'write listener 10'
    ])
    expect(report.hooks).toEqual([
      expect.objectContaining({ hook: 'before-traffic', instanceId: firstGreen(), status: 'Success', exitCode: 0 })
    ])
    expect(report.hooks?.[0].outputTail).toBe('deployed')
  })

  it('a failing hook moves no traffic: the deploy fails, the fleet is recorded failed, the output is shown', async () => {
    // The first send (deploy commands) succeeds everywhere; the second (the hook) fails.
    let sent = 0
    aws.command = (id) => {
      sent++
      return sent <= 3 || id !== firstGreen()
        ? { status: 'Success', exitCode: 0, output: 'deployed' }
        : { status: 'Failed', exitCode: 2, output: 'django.db.utils.OperationalError: column | <b>x</b> exists' }
    }
    const report = await deploy(config({ strategy: 'canary', 'before-traffic-commands': MIGRATE }), context(clock))

    expect(report.result).toBe('failed')
    expect(aws.writes).toEqual([])
    expect(report.headline).toMatch(/before-traffic-commands failed on i-\w+ \(exit 2\); no traffic was moved/)
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('failed')
    expect(aws.tags.get(BLUE)?.[TAG.lock]).toBeUndefined()
    expect(report.hooks?.[0]).toMatchObject({ status: 'Failed', exitCode: 2 })
    const summary = renderSummary(report)
    expect(summary).toContain('### Run-once hooks')
    expect(summary).toContain('OperationalError: column | &lt;b&gt;x&lt;/b&gt; exists')
    expect(summary).not.toContain('<b>x</b>')
  })

  it('is not run when the deploy commands failed', async () => {
    aws.command = () => ({ status: 'Failed', exitCode: 1 })
    const report = await deploy(config({ 'before-traffic-commands': MIGRATE }), context(clock))
    expect(report.result).toBe('failed')
    expect(sends()).toHaveLength(1)
    expect(report.hooks).toBeUndefined()
  })

  it('dry run: the plan names the hook and its instance, and nothing is sent', async () => {
    const ctx = context(clock)
    const report = await deploy(
      config({ 'dry-run': 'true', 'before-traffic-commands': MIGRATE, 'contract-commands': 'drop' }),
      ctx
    )
    expect(report.result).toBe('unchanged')
    expect(report.plan?.hooks).toEqual([
      expect.stringContaining(`before-traffic-commands (1 line): once, on ${firstGreen()} of web-green`),
      expect.stringMatching(/contract-commands \(1 line\): .* from then on rollback to web-blue is refused/)
    ])
    expect(ctx.log.text()).toContain(`once, on ${firstGreen()} of web-green`)
    expect(renderSummary(report)).toContain('**Hook:** before-traffic-commands')
    expect(aws.mutatingCalls()).toEqual([])
  })
})

describe('preview route', () => {
  it('opens a rule at a free priority before the first shift, and removes it when the deploy succeeds', async () => {
    const report = await deploy(config({ strategy: 'canary', 'preview-header': 'X-Preview' }), context(clock))

    expect(report.result).toBe('succeeded')
    const create = aws.elb.commandCalls(CreateRuleCommand)[0].args[0].input
    // The listener's default action: after every rule, at the highest priority.
    expect(create).toMatchObject({
      ListenerArn: LISTENER,
      Priority: 50000,
      Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Preview', Values: ['v2'] } }],
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: GREEN, Weight: 1 }] } }],
      Tags: [{ Key: PREVIEW_TAG, Value: GREEN }]
    })
    const order = aws.events.filter((e) => /^(write|create|delete)/.test(e))
    expect(order).toEqual([
      'create-rule 50000',
      'write listener 10',
      'write listener 50',
      'write listener 100',
      'delete-rule'
    ])
    expect(previewRules()).toEqual([])
    expect(report.preview).toMatchObject({ header: 'X-Preview', value: 'v2', fleet: GREEN, state: 'removed' })
    expect(report.preview?.rules[0].curl).toBe(
      "curl -H 'X-Preview: v2' http://web-1234567890.us-east-1.elb.amazonaws.com/"
    )
  })

  /** A listener whose default answers 404, a rule at 5 answering 403, and the pair's rule at 10 for one host. */
  function ruleRoute(): void {
    aws.rules.set(RULE, aws.listeners.get(LISTENER) ?? [])
    aws.listeners.set(LISTENER, [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }])
    aws.ruleMeta.set(RULE, {
      listenerArn: LISTENER,
      priority: '10',
      conditions: [
        { Field: 'host-header', Values: ['web.example.com'], HostHeaderConfig: { Values: ['web.example.com'] } }
      ]
    })
    const other = `${RULE.slice(0, -16)}00000000000000aa`
    aws.rules.set(other, [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403' } }])
    aws.ruleMeta.set(other, { listenerArn: LISTENER, priority: '5', conditions: [] })
  }
  const ruleConfig = (extra: RawInputs = {}) =>
    config({ 'listener-arns': '', 'rule-arns': RULE, strategy: 'canary', 'canary-steps': '10', ...extra })

  it("takes the priority right before a rule it previews, with the rule's own conditions", async () => {
    ruleRoute()
    const ctx = context(clock)
    const report = await deploy(ruleConfig({ 'preview-header': 'X-Preview' }), ctx)

    expect(report.result).toBe('paused')
    const [create] = aws.elb.commandCalls(CreateRuleCommand).map((c) => c.args[0].input)
    expect(create.Priority).toBe(9)
    expect(create.Conditions).toEqual([
      { Field: 'host-header', HostHeaderConfig: { Values: ['web.example.com'] } },
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Preview', Values: ['v2'] } }
    ])
    expect(report.preview?.rules[0]).toMatchObject({
      priority: 9,
      curl: "curl -H 'X-Preview: v2' http://web.example.com/"
    })
    // Paused: the preview stays for the testers, and the saved state leaves it to the promote.
    expect(previewRules().map(([, m]) => m.priority)).toEqual(['9'])
    expect(ctx.saved.at(-1)).toMatchObject({ finished: true })
  })

  it('a priority taken while the commands ran is read again; with no room left, no traffic moves', async () => {
    ruleRoute()
    aws.command = () => {
      if (!aws.ruleMeta.has('squatter')) {
        aws.rules.set('squatter', [])
        aws.ruleMeta.set('squatter', { listenerArn: LISTENER, priority: '9', conditions: [] })
      }
      return { status: 'Success', exitCode: 0 }
    }
    const report = await deploy(ruleConfig({ 'preview-header': 'X-Preview' }), context(clock))
    expect(report.result).toBe('failed')
    expect(report.headline).toMatch(/No free priority right before rule .* \(priority 10; 9 is taken\)/)
    expect(aws.writes).toEqual([])
    expect(previewRules()).toEqual([])
    expect(aws.elb.commandCalls(CreateRuleCommand)).toHaveLength(1)
  })

  it('dry run: the plan shows the rule it would open and its curl line, and opens nothing', async () => {
    const ctx = context(clock)
    const report = await deploy(config({ 'dry-run': 'true', 'preview-header': 'X-Preview' }), ctx)
    expect(report.result).toBe('unchanged')
    expect(report.preview).toMatchObject({ state: 'planned', rules: [{ priority: 50000 }] })
    expect(ctx.log.text()).toMatch(
      /preview: rule at priority 50000 on web listener f2f7dc8e, X-Preview: v2 to web-green only: curl -H 'X-Preview: v2'/
    )
    expect(renderSummary(report)).toContain('would open')
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('a listener with no room for it fails the deploy before anything is sent', async () => {
    aws.rules.set('last', [])
    aws.ruleMeta.set('last', { listenerArn: LISTENER, priority: '50000', conditions: [] })
    await expect(deploy(config({ 'preview-header': 'X-Preview' }), context(clock))).rejects.toThrow(
      /rule at priority 50000, so no preview rule can come after every rule; give preview-priority/
    )
    expect(aws.mutatingCalls()).toEqual([])
  })

  it('preview-priority is used as given, and refused when taken', async () => {
    await deploy(config({ 'preview-header': 'X-Preview', 'preview-priority': '42' }), context(clock))
    expect(aws.elb.commandCalls(CreateRuleCommand)[0].args[0].input.Priority).toBe(42)

    aws.rules.set('r42', [])
    aws.ruleMeta.set('r42', { listenerArn: LISTENER, priority: '42', conditions: [] })
    aws.addListener(LISTENER, 0, 100)
    await expect(
      deploy(config({ 'preview-header': 'X-Preview', 'preview-priority': '42' }), context(clock))
    ).rejects.toThrow(/preview-priority 42 is taken/)
  })

  it('is removed when the canary fails its checks, after the weights are restored', async () => {
    aws.alarm = () => (aws.greenHistory().at(-1) === 10 ? 'ALARM' : 'OK')
    const report = await deploy(config({ strategy: 'canary', 'preview-header': 'X-Preview' }), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(aws.events.filter((e) => /^(write|create|delete)/.test(e))).toEqual([
      'create-rule 50000',
      'write listener 10',
      'write listener 0',
      'delete-rule'
    ])
    expect(previewRules()).toEqual([])
    expect(report.preview?.state).toBe('removed')
  })

  it('is removed when the deploy is cancelled', async () => {
    const cancel = new AbortController()
    clock.onTick = () => {
      if (aws.greenHistory().at(-1) === 50) cancel.abort(new Error('SIGINT'))
    }
    const ctx = context(clock, cancel.signal)
    const report = await deploy(config({ strategy: 'canary', 'preview-header': 'X-Preview' }), ctx)
    expect(report.result).toBe('rolled-back')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(previewRules()).toEqual([])
    expect(ctx.saved.at(-1)).toMatchObject({ finished: true })
  })

  it('is never opened when the deploy fails before the new fleet may take traffic', async () => {
    aws.health = (group, id) =>
      group === GREEN && id === firstGreen() ? { state: 'unhealthy', reason: 'Target.Timeout' } : { state: 'healthy' }
    const report = await deploy(config({ 'preview-header': 'X-Preview' }), context(clock))
    expect(report.result).toBe('failed')
    // The preview opens only once the new fleet may take traffic: here it never did.
    expect(aws.elb.commandCalls(CreateRuleCommand)).toHaveLength(0)
    expect(aws.writes).toEqual([])
  })

  it('a preview that cannot open on every listener is taken back, and no traffic moves', async () => {
    aws.addListener(LISTENER_443, 100, 0)
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' })
    aws.elb.on(CreateRuleCommand, { ListenerArn: LISTENER_443 }).rejects(denied)
    const report = await deploy(
      config({ 'listener-arns': `${LISTENER}\n${LISTENER_443}`, strategy: 'canary', 'preview-header': 'X-Preview' }),
      context(clock)
    )
    expect(report.result).toBe('failed')
    expect(report.headline).toMatch(
      /Could not open the preview route \(AccessDeniedException: not authorized\); grant elasticloadbalancing:CreateRule/
    )
    expect(aws.writes).toEqual([])
    expect(previewRules()).toEqual([])
    expect(aws.events.filter((e) => /rule/.test(e))).toEqual(['create-rule 50000', 'delete-rule'])
  })

  it('is removed by the post step when the main step was killed mid-canary', async () => {
    const ctx = context(clock)
    const sleep = clock.sleep
    clock.sleep = (ms, signal) =>
      aws.greenHistory().at(-1) === 10 ? new Promise<void>(() => undefined) : sleep(ms, signal)
    void deploy(config({ strategy: 'canary', 'preview-header': 'X-Preview' }), ctx)
    for (let i = 0; i < 200 && aws.greenHistory().at(-1) !== 10; i++) await new Promise((r) => setTimeout(r, 5))
    await new Promise((r) => setTimeout(r, 20))
    expect(previewRules()).toHaveLength(1)
    const killed = ctx.saved.at(-1)
    expect(killed).toMatchObject({ finished: false, trafficMoved: true, previewRuleArns: [previewRules()[0][0]] })

    const log = new ListLog()
    const outcome = await cleanup(killed, ctx.clients, log, clock)
    expect(outcome).toMatchObject({ restored: true, closedPreviewRules: 1, releasedLock: true })
    expect(previewRules()).toEqual([])
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(log.text()).toMatch(/Preview closed: 1 rule/)
  })

  it('a rule an earlier run left is replaced, not doubled', async () => {
    aws.rules.set('stale', [{ Type: 'forward', TargetGroupArn: BLUE }])
    aws.ruleMeta.set('stale', {
      listenerArn: LISTENER,
      priority: '50000',
      conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Preview', Values: ['v1'] } }]
    })
    aws.tags.set('stale', { [PREVIEW_TAG]: BLUE })
    const report = await deploy(
      config({ strategy: 'canary', 'canary-steps': '10', 'preview-header': 'X-Preview' }),
      context(clock)
    )
    expect(report.result).toBe('paused')
    expect(aws.rules.has('stale')).toBe(false)
    expect(previewRules().map(([, m]) => [m.priority, m.conditions[0].HttpHeaderConfig?.Values])).toEqual([
      ['50000', ['v2']]
    ])
  })

  it('refuses a route that signs users in with OIDC: the preview would skip the sign-in', async () => {
    aws.addListener(LISTENER, 100, 0, [
      {
        Type: 'authenticate-oidc',
        Order: 1,
        AuthenticateOidcConfig: {
          Issuer: 'https://idp',
          AuthorizationEndpoint: 'https://idp/a',
          TokenEndpoint: 'https://idp/t',
          UserInfoEndpoint: 'https://idp/u',
          ClientId: 'c'
        }
      }
    ])
    await expect(deploy(config({ 'preview-header': 'X-Preview' }), context(clock))).rejects.toThrow(
      /signs users in with OIDC/
    )
    expect(aws.mutatingCalls()).toEqual([])
  })
})

describe('canary-steps 0: deploy, open the preview, pause at 0%', () => {
  const staged = () =>
    deploy(config({ strategy: 'canary', 'canary-steps': '0', 'preview-header': 'X-Preview' }), context(clock))

  it('pauses with no traffic moved, the new fleet recorded as the canary, the preview open', async () => {
    const report = await staged()
    expect(report.result).toBe('paused')
    expect(report.headline).toMatch(/paused at 0% on web-green, preview open/)
    expect(aws.writes).toEqual([])
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('canary')
    expect(previewRules()).toHaveLength(1)
    expect(report.preview?.state).toBe('open')
    const summary = renderSummary(report)
    expect(summary).toContain("curl -H 'X-Preview: v2' http://web-1234567890.us-east-1.elb.amazonaws.com/")
    expect(summary).toContain('**Pauses** at 0%')
  })

  it('a later promote walks the steps and closes the preview at the end', async () => {
    await staged()
    const report = await promote(
      config({ operation: 'promote', 'canary-steps': '10,50,100', commands: '' }),
      context(clock)
    )
    expect(report.result).toBe('succeeded')
    expect(aws.greenHistory()).toEqual([10, 50, 100])
    expect(aws.events.at(-1)).toBe('delete-rule')
    expect(previewRules()).toEqual([])
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('live')
  })

  it('a cancelled promote goes back to 0% and keeps the preview', async () => {
    await staged()
    const cancel = new AbortController()
    clock.onTick = () => {
      if (aws.greenHistory().at(-1) === 50) cancel.abort(new Error('SIGINT'))
    }
    const report = await promote(config({ operation: 'promote', commands: '' }), context(clock, cancel.signal))
    expect(report.result).toBe('paused')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(previewRules()).toHaveLength(1)
  })

  it('a new deploy is refused while it is staged', async () => {
    await staged()
    await expect(deploy(config({ version: 'v3' }), context(clock))).rejects.toThrow(
      /canary of v2 is staged at 0% on web-green; run promote to finish it or rollback/
    )
  })

  it('rollback drops it: traffic stays, the preview goes, the fleet is no rollback target', async () => {
    await staged()
    const report = await rollback(config({ operation: 'rollback', commands: '' }), context(clock))
    expect(report.result).toBe('rolled-back')
    expect(report.headline).toMatch(/staged canary of web-green dropped/)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(aws.writes).toEqual([])
    expect(previewRules()).toEqual([])
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('failed')
  })

  it('status says so and shows the open preview', async () => {
    await staged()
    const changesBefore = aws.mutatingCalls().length
    const report = await status(config({ operation: 'status', commands: '' }), context(clock))
    expect(report.headline).toBe(
      'web-blue is live (version v1); web-green holds a canary staged at 0% (version v2); run promote or rollback'
    )
    expect(report.preview).toMatchObject({ state: 'open', header: 'X-Preview', value: 'v2' })
    expect(report.preview?.rules[0].curl).toContain("-H 'X-Preview: v2'")
    expect(aws.mutatingCalls()).toHaveLength(changesBefore)
  })
})

describe('contract-commands and the rollback guard', () => {
  const CONTRACT = 'python manage.py migrate app 0043  # drops the old column'

  it('run once after the final hold, recorded on the new fleet; a later rollback is refused, naming the run and time', async () => {
    const report = await deploy(config({ 'contract-commands': CONTRACT }), context(clock))
    expect(report.result).toBe('succeeded')
    const [, contract] = sends()
    expect(contract.InstanceIds).toEqual([firstGreen()])
    expect(contract.Parameters?.commands).toEqual([CONTRACT])
    const order = aws.events.filter((e) => /^(send|write)/.test(e))
    expect(order).toEqual([`send ${aws.targets.get(GREEN)?.join(',')}`, 'write listener 100', `send ${firstGreen()}`])
    // After the final hold: the contract went out once step-wait (2m) had passed at 100%.
    const writtenAt = aws.writes[0].at
    const contractAt = aws.commands.get('cmd-2')?.[0].sentAt ?? 0
    expect(contractAt - writtenAt).toBeGreaterThanOrEqual(2 * 60_000)
    const recorded = decodeContract(aws.tags.get(GREEN)?.[CONTRACT_TAG])
    expect(recorded).toMatchObject({
      state: 'done',
      deployedAt: aws.tags.get(GREEN)?.[TAG.deployedAt],
      run: 'https://github.com/o/r/actions/runs/1/attempts/1'
    })

    const changes = aws.mutatingCalls().length
    const refused = await rollback(config({ operation: 'rollback', commands: '' }), context(clock))
    expect(refused.result).toBe('failed')
    expect(refused.headline).toBe(
      `Rollback refused: contract-commands of v2 on web-green ran at ${recorded?.at} in https://github.com/o/r/actions/runs/1/attempts/1, so web-blue (v1) may no longer work with the data; deploy a fix forward instead (a new version goes to web-blue), or set allow-rollback-past-contract: true if you know web-blue (v1) still works`
    )
    expect(refused.fleets.map((f) => [f.name, f.weightAfter])).toEqual([
      ['web-blue', 0],
      ['web-green', 100]
    ])
    // Refused before the lock: nothing at all was written.
    expect(aws.mutatingCalls()).toHaveLength(changes)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 0, [GREEN]: 100 })
  })

  it('the explicit override rolls back anyway, and says what it overrode', async () => {
    await deploy(config({ 'contract-commands': CONTRACT }), context(clock))
    const ctx = context(clock)
    const report = await rollback(
      config({ operation: 'rollback', commands: '', 'allow-rollback-past-contract': 'true' }),
      ctx
    )
    expect(report.result).toBe('rolled-back')
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 100, [GREEN]: 0 })
    expect(report.warnings.join('\n')).toMatch(/Rolling back past a contract, as allow-rollback-past-contract asks/)
    expect(ctx.log.text()).toMatch(/warning: Rolling back past a contract/)
  })

  it('a deploy that pauses runs no contract (it belongs to the promote that finishes)', async () => {
    const report = await deploy(
      config({ strategy: 'canary', 'canary-steps': '10', 'contract-commands': CONTRACT }),
      context(clock)
    )
    expect(report.result).toBe('paused')
    expect(sends()).toHaveLength(1)
    expect(report.plan?.hooks?.[0]).toMatch(/not run by this deploy, which pauses/)
  })

  it('a contract that fails leaves the traffic on the new fleet, fails the step, and still guards rollback', async () => {
    let sent = 0
    aws.command = () =>
      ++sent <= 3 ? { status: 'Success', exitCode: 0 } : { status: 'Failed', exitCode: 1, output: 'cannot drop column' }
    const report = await deploy(config({ 'contract-commands': CONTRACT }), context(clock))
    expect(report.result).toBe('failed')
    expect(report.headline).toMatch(
      /web-green \(v2\) has all traffic and keeps it, but contract-commands failed .* rollback to web-blue is refused; fix the contract, then run promote with contract-commands/
    )
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 0, [GREEN]: 100 })
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('live')
    expect(decodeContract(aws.tags.get(GREEN)?.[CONTRACT_TAG])?.state).toBe('failed')
    const refused = await rollback(config({ operation: 'rollback', commands: '' }), context(clock))
    expect(refused.headline).toMatch(/Rollback refused: contract-commands of v2 on web-green failed partway/)
  })

  it('a promote of a fleet with all traffic runs the contract alone (later, or again)', async () => {
    await deploy(config(), context(clock))
    const report = await promote(
      config({ operation: 'promote', commands: '', 'contract-commands': CONTRACT }),
      context(clock)
    )
    expect(report.result).toBe('succeeded')
    expect(report.headline).toMatch(
      /contract-commands ran on web-green \(v2\); from now on rollback to web-blue is refused/
    )
    expect(sends().at(-1)?.InstanceIds).toEqual([firstGreen()])
    expect(decodeContract(aws.tags.get(GREEN)?.[CONTRACT_TAG])?.state).toBe('done')
    const again = await promote(
      config({ operation: 'promote', commands: '', 'contract-commands': CONTRACT }),
      context(clock)
    )
    expect(again.result).toBe('unchanged')
    expect(again.headline).toMatch(/already ran/)
  })

  it('the contract of an older deploy on that fleet does not bind the release it runs now', async () => {
    await deploy(config({ 'contract-commands': CONTRACT }), context(clock))
    await rollback(
      config({ operation: 'rollback', commands: '', 'allow-rollback-past-contract': 'true' }),
      context(clock)
    )
    // v3 goes to green, the fleet that contracted v2; its old contract record stays as history.
    clock.t += 60_000
    await deploy(config({ version: 'v3' }), context(clock))
    expect(aws.tags.get(GREEN)?.[CONTRACT_TAG]).toBeDefined()
    const report = await rollback(config({ operation: 'rollback', commands: '' }), context(clock))
    expect(report.result).toBe('rolled-back')
  })

  it('status says whether the previous fleet is still a safe rollback target', async () => {
    await deploy(config(), context(clock))
    const before = await status(config({ operation: 'status', commands: '' }), context(clock))
    expect(before.rollbackSafety).toEqual({
      safe: true,
      line: 'web-blue (v1) is a safe rollback target: back to the previous release, healthy, no contract since'
    })
    await promote(config({ operation: 'promote', commands: '', 'contract-commands': CONTRACT }), context(clock))
    const after = await status(config({ operation: 'status', commands: '' }), context(clock))
    expect(after.rollbackSafety?.safe).toBe(false)
    expect(after.rollbackSafety?.line).toMatch(
      /^web-blue \(v1\) is NOT a safe rollback target: contract-commands of v2/
    )
    expect(renderSummary(after)).toMatch(/### Rollback\n\n⛔ web-blue &#40;v1&#41; is NOT a safe rollback target/)
  })

  it('a main step killed during the contract: the post step leaves the traffic and the records alone', async () => {
    const ctx = context(clock)
    aws.command = () => (aws.commands.size >= 1 ? { status: 'Hang' } : { status: 'Success', exitCode: 0 })
    const sleep = clock.sleep
    let hung = false
    clock.sleep = (ms, signal) => {
      if (aws.commands.size >= 2 && !hung) {
        hung = true
        return new Promise<void>(() => undefined)
      }
      return sleep(ms, signal)
    }
    void deploy(config({ 'contract-commands': CONTRACT }), ctx)
    for (let i = 0; i < 400 && !hung; i++) await new Promise((r) => setTimeout(r, 5))
    await new Promise((r) => setTimeout(r, 20))
    expect(hung).toBe(true)
    const killed = ctx.saved.at(-1)
    expect(killed).toMatchObject({ finished: false, settled: true, trafficMoved: false })
    const outcome = await cleanup(killed, ctx.clients, new ListLog(), clock)
    expect(outcome.restored).toBe(false)
    expect(aws.weights(LISTENER)).toEqual({ [BLUE]: 0, [GREEN]: 100 })
    expect(aws.tags.get(GREEN)?.[TAG.role]).toBe('live')
    // The contract went out and never reported: rollback stays guarded.
    expect(decodeContract(aws.tags.get(GREEN)?.[CONTRACT_TAG])?.state).toBe('started')
    const refused = await rollback(config({ operation: 'rollback', commands: '' }), context(clock))
    expect(refused.headline).toMatch(/started and never reported an end/)
  })
})
