import {
  CreateRuleCommand,
  DescribeTargetGroupAttributesCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  type Action,
  type TargetGroupAttribute
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { addListener, addRule, addTargetGroup, forwardAction } from '../../sandbox/aws/fixtures.js'
import { rejection, startHarness, type Harness } from './aws-helpers.js'

let h: Harness
let blue: string
let green: string
let listener: string

beforeEach(async () => {
  h = await startHarness()
  blue = addTargetGroup(h.world, { name: 'web-blue' })
  green = addTargetGroup(h.world, { name: 'web-green' })
  listener = addListener(h.world, { defaultActions: [forwardAction({ [blue]: 100, [green]: 0 }, 300)] })
})

afterEach(async () => {
  await h.close()
})

const weighted = (weights: [number, number], stickySeconds?: number): Action[] => [
  {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: blue, Weight: weights[0] },
        { TargetGroupArn: green, Weight: weights[1] }
      ],
      TargetGroupStickinessConfig:
        stickySeconds === undefined ? { Enabled: false } : { Enabled: true, DurationSeconds: stickySeconds }
    }
  }
]
const setAttributes = (TargetGroupArn: string, Attributes: TargetGroupAttribute[]) =>
  h.elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn, Attributes }))
const attrs = async (arn: string) =>
  Object.fromEntries(
    (await h.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))).Attributes!.map((a) => [
      a.Key,
      a.Value
    ])
  )
const targetStickiness = [
  { Key: 'stickiness.enabled', Value: 'true' },
  { Key: 'stickiness.lb_cookie.duration_seconds', Value: '600' }
]

describe('target-level stickiness against group stickiness', () => {
  test('with group stickiness on, target stickiness can be turned on; then group stickiness cannot be turned off', async () => {
    const out = await setAttributes(green, targetStickiness)
    const returned = Object.fromEntries(out.Attributes!.map((a) => [a.Key, a.Value]))
    expect(returned).toMatchObject({
      'stickiness.enabled': 'true',
      'stickiness.lb_cookie.duration_seconds': '600',
      'deregistration_delay.timeout_seconds': '300'
    })
    expect(await attrs(green)).toMatchObject({ 'stickiness.enabled': 'true', 'stickiness.type': 'lb_cookie' })

    const off = await rejection(
      h.elb.send(new ModifyListenerCommand({ ListenerArn: listener, DefaultActions: weighted([100, 0]) }))
    )
    expect(off.name).toBe('InvalidConfigurationRequestException')
    expect(off.message).toMatch(/target stickiness/)
    expect(off.$metadata?.httpStatusCode).toBe(400)
    // Nothing changed: the route keeps group stickiness, and no weight change was recorded.
    expect(h.world.listeners.get(listener)!.defaultActions[0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 300
    })
    expect(h.world.weightChanges).toHaveLength(0)

    // Weights can still move with group stickiness kept on.
    await h.elb.send(new ModifyListenerCommand({ ListenerArn: listener, DefaultActions: weighted([0, 100], 300) }))
    // Turning target stickiness off first makes turning group stickiness off possible.
    await setAttributes(green, [{ Key: 'stickiness.enabled', Value: 'false' }])
    await h.elb.send(new ModifyListenerCommand({ ListenerArn: listener, DefaultActions: weighted([0, 100]) }))
    expect(h.world.listeners.get(listener)!.defaultActions[0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({
      Enabled: false
    })
  })

  test('ModifyTargetGroupAttributes refuses target stickiness behind a multi-group route without group stickiness (AWS wording)', async () => {
    const rule = addRule(h.world, {
      listenerArn: listener,
      priority: 5,
      actions: [forwardAction({ [blue]: 50, [green]: 50 })]
    })
    const err = await rejection(setAttributes(blue, targetStickiness))
    expect(err.name).toBe('InvalidConfigurationRequestException')
    expect(err.message).toBe(
      `This target group appears behind a rule with group stickiness disabled (${rule}). You must enable group stickiness before enabling target stickiness`
    )
    expect((await attrs(blue))['stickiness.enabled']).toBe('false')
  })

  test('ModifyRule and CreateRule refuse a multi-group forward without group stickiness when a group has target stickiness; a single group is fine', async () => {
    const rule = addRule(h.world, {
      listenerArn: listener,
      priority: 5,
      actions: [forwardAction({ [blue]: 100, [green]: 0 }, 60)]
    })
    await setAttributes(blue, targetStickiness)
    const modify = await rejection(h.elb.send(new ModifyRuleCommand({ RuleArn: rule, Actions: weighted([100, 0]) })))
    expect(modify.name).toBe('InvalidConfigurationRequestException')
    const create = await rejection(
      h.elb.send(
        new CreateRuleCommand({
          ListenerArn: listener,
          Priority: 6,
          Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/x'] } }],
          Actions: weighted([50, 50])
        })
      )
    )
    expect(create.name).toBe('InvalidConfigurationRequestException')
    await h.elb.send(new ModifyRuleCommand({ RuleArn: rule, Actions: [{ Type: 'forward', TargetGroupArn: blue }] }))
    expect(h.world.rules.get(rule)!.actions).toEqual([{ Type: 'forward', TargetGroupArn: blue }])
  })
})

describe('ModifyTargetGroupAttributes checks', () => {
  test('values out of range, unknown keys, unsupported stickiness types and reserved cookie names are refused', async () => {
    const cases: Array<[TargetGroupAttribute[], string]> = [
      [[{ Key: 'stickiness.lb_cookie.duration_seconds', Value: '0' }], 'ValidationError'],
      [[{ Key: 'stickiness.lb_cookie.duration_seconds', Value: '604801' }], 'ValidationError'],
      [[{ Key: 'deregistration_delay.timeout_seconds', Value: '3601' }], 'ValidationError'],
      [[{ Key: 'slow_start.duration_seconds', Value: '10' }], 'ValidationError'],
      [[{ Key: 'stickiness.enabled', Value: 'yes' }], 'ValidationError'],
      [[{ Key: 'no.such.attribute', Value: '1' }], 'ValidationError'],
      [[{ Key: 'stickiness.type', Value: 'source_ip' }], 'InvalidConfigurationRequestException'],
      [[{ Key: 'stickiness.app_cookie.cookie_name', Value: 'AWSALBAPP-x' }], 'ValidationError'],
      [
        [
          { Key: 'stickiness.enabled', Value: 'true' },
          { Key: 'stickiness.type', Value: 'app_cookie' }
        ],
        'ValidationError'
      ]
    ]
    for (const [attributes, name] of cases) expect((await rejection(setAttributes(blue, attributes))).name).toBe(name)
    expect(h.world.targetGroups.get(blue)!.attributes).toBeUndefined()
    await setAttributes(blue, [
      { Key: 'stickiness.type', Value: 'app_cookie' },
      { Key: 'stickiness.app_cookie.cookie_name', Value: 'SESSION' },
      { Key: 'deregistration_delay.timeout_seconds', Value: '30' }
    ])
    // Only what differs from AWS's defaults is kept on the world's target group.
    expect(h.world.targetGroups.get(blue)!.attributes).toEqual({
      'stickiness.type': 'app_cookie',
      'stickiness.app_cookie.cookie_name': 'SESSION',
      'deregistration_delay.timeout_seconds': '30'
    })
    const missing = await rejection(setAttributes(blue.replace(/[0-9a-f]{16}$/, '0000000000000000'), targetStickiness))
    expect(missing.name).toBe('TargetGroupNotFoundException')
  })

  test('enabling group stickiness needs a duration (AWS wording)', async () => {
    const err = await rejection(
      h.elb.send(
        new ModifyListenerCommand({
          ListenerArn: listener,
          DefaultActions: [
            {
              Type: 'forward',
              ForwardConfig: {
                TargetGroups: [{ TargetGroupArn: blue, Weight: 1 }],
                TargetGroupStickinessConfig: { Enabled: true }
              }
            }
          ]
        })
      )
    )
    expect([err.name, err.message]).toEqual([
      'ValidationError',
      'Target group stickiness duration must be between 1 and 604800 seconds'
    ])
  })
})
