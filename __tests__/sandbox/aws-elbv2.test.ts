import {
  AddTagsCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  RemoveTagsCommand,
  paginateDescribeTargetGroups,
  type Action
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {
  addInstance,
  addListener,
  addRule,
  addTargetGroup,
  defaultRuleArn,
  forwardAction
} from '../../sandbox/aws/fixtures.js'
import { rejection, startHarness, type Harness } from './aws-helpers.js'

let h: Harness
let blue: string
let green: string
let listener: string
let rule: string
let instA: string
let instB: string

beforeEach(async () => {
  h = await startHarness()
  instA = addInstance(h.world, { port: 41001 })
  instB = addInstance(h.world, { port: 41002 })
  blue = addTargetGroup(h.world, {
    name: 'web-blue',
    targets: { [instA]: { state: 'healthy' } },
    healthCheck: { intervalMs: 500, timeoutMs: 2500 }
  })
  green = addTargetGroup(h.world, {
    name: 'web-green',
    targets: {
      [instB]: {
        state: 'unhealthy',
        reason: 'Target.ResponseCodeMismatch',
        description: 'Health checks failed with these codes: [500]'
      }
    }
  })
  listener = addListener(h.world, { port: 48080, defaultActions: [forwardAction({ [blue]: 100, [green]: 0 })] })
  rule = addRule(h.world, { listenerArn: listener, priority: 10, actions: [{ Type: 'forward', TargetGroupArn: blue }] })
})

afterEach(async () => {
  await h.close()
})

const weighted = (weights: Array<[string, number]>, extra: Partial<Action> = {}): Action[] => [
  {
    Type: 'forward',
    ForwardConfig: { TargetGroups: weights.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })) },
    ...extra
  }
]

const modify = (DefaultActions: Action[]) =>
  h.elb.send(new ModifyListenerCommand({ ListenerArn: listener, DefaultActions }))

describe('ELBv2 listeners and rules', () => {
  test('ARNs have the real formats', () => {
    expect(blue).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/web-blue\/[0-9a-f]{16}$/)
    expect(listener).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:123456789012:listener\/app\/web\/[0-9a-f]{16}\/[0-9a-f]{16}$/
    )
    expect(rule).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule\/app\/web\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/
    )
    expect(instA).toMatch(/^i-[0-9a-f]{17}$/)
  })

  test('DescribeListeners returns the weighted forward action', async () => {
    const out = await h.elb.send(new DescribeListenersCommand({ ListenerArns: [listener] }))
    expect(out.Listeners).toHaveLength(1)
    const l = out.Listeners![0]
    expect(l.ListenerArn).toBe(listener)
    expect(l.Port).toBe(48080)
    expect(l.Protocol).toBe('HTTP')
    expect(l.DefaultActions![0].ForwardConfig!.TargetGroups).toEqual([
      { TargetGroupArn: blue, Weight: 100 },
      { TargetGroupArn: green, Weight: 0 }
    ])
    expect(l.DefaultActions![0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: false })
    expect(l.DefaultActions![0].TargetGroupArn).toBeUndefined()
  })

  test('DescribeListeners by load balancer and unknown listener', async () => {
    const lb = h.world.listeners.get(listener)!.loadBalancerArn
    const out = await h.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb }))
    expect(out.Listeners!.map((l) => l.ListenerArn)).toEqual([listener])
    const err = await rejection(h.elb.send(new DescribeListenersCommand({ ListenerArns: [listener + '0'] })))
    expect(err.name).toBe('ListenerNotFoundException')
    expect(err.$metadata?.httpStatusCode).toBe(400)
  })

  test('the single TargetGroupArn form round-trips, reported with its ForwardConfig like AWS does', async () => {
    await modify([{ Type: 'forward', TargetGroupArn: green }])
    const a = (await h.elb.send(new DescribeListenersCommand({ ListenerArns: [listener] }))).Listeners![0]
      .DefaultActions![0]
    expect(a.Type).toBe('forward')
    expect(a.TargetGroupArn).toBe(green)
    expect(a.ForwardConfig!.TargetGroups).toEqual([{ TargetGroupArn: green, Weight: 1 }])
    expect(h.world.listeners.get(listener)!.defaultActions).toEqual([{ Type: 'forward', TargetGroupArn: green }])
  })

  test('the ForwardConfig form round-trips with weights and stickiness', async () => {
    await modify(
      weighted(
        [
          [blue, 90],
          [green, 10]
        ],
        {
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: blue, Weight: 90 },
              { TargetGroupArn: green, Weight: 10 }
            ],
            TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 }
          }
        }
      )
    )
    const a = (await h.elb.send(new DescribeListenersCommand({ ListenerArns: [listener] }))).Listeners![0]
      .DefaultActions![0]
    expect(a.ForwardConfig).toEqual({
      TargetGroups: [
        { TargetGroupArn: blue, Weight: 90 },
        { TargetGroupArn: green, Weight: 10 }
      ],
      TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 }
    })
  })

  test('ModifyListener records the weight change and returns the listener', async () => {
    const out = await modify(
      weighted([
        [blue, 50],
        [green, 50]
      ])
    )
    expect(out.Listeners![0].DefaultActions![0].ForwardConfig!.TargetGroups!.map((g) => g.Weight)).toEqual([50, 50])
    expect(h.world.weightChanges).toHaveLength(1)
    expect(h.world.weightChanges[0]).toMatchObject({ routeArn: listener, weights: { [blue]: 50, [green]: 50 } })
  })

  test('weights 0 and 999 are accepted, 1000 and -1 are not', async () => {
    await modify(
      weighted([
        [blue, 0],
        [green, 999]
      ])
    )
    expect(h.world.listeners.get(listener)!.defaultActions[0].ForwardConfig!.TargetGroups![1].Weight).toBe(999)
    for (const bad of [1000, -1]) {
      const err = await rejection(
        modify(
          weighted([
            [blue, bad],
            [green, 0]
          ])
        )
      )
      expect(err.name).toBe('ValidationError')
      expect(err.message).toMatch(/between 0 and 999/)
    }
    expect(h.world.weightChanges).toHaveLength(1)
  })

  test('five target groups in a forward action are accepted, six are not', async () => {
    const extra = [1, 2, 3, 4].map((i) => addTargetGroup(h.world, { name: `extra-${i}` }))
    await modify(weighted([[blue, 1], ...extra.slice(0, 4).map((a): [string, number] => [a, 1])]))
    const err = await rejection(
      modify(weighted([[blue, 1], [green, 1], ...extra.map((a): [string, number] => [a, 1])]))
    )
    expect(err.name).toBe('ValidationError')
    expect(h.world.listeners.get(listener)!.defaultActions[0].ForwardConfig!.TargetGroups).toHaveLength(5)
  })

  test('a target group may appear only once in a forward action', async () => {
    const err = await rejection(
      modify(
        weighted([
          [blue, 1],
          [blue, 2]
        ])
      )
    )
    expect(err.name).toBe('ValidationError')
  })

  test('TargetGroupArn and ForwardConfig must name the same single group', async () => {
    await modify([
      { Type: 'forward', TargetGroupArn: blue, ForwardConfig: { TargetGroups: [{ TargetGroupArn: blue, Weight: 1 }] } }
    ])
    const err = await rejection(
      modify([
        {
          Type: 'forward',
          TargetGroupArn: blue,
          ForwardConfig: { TargetGroups: [{ TargetGroupArn: green, Weight: 1 }] }
        }
      ])
    )
    expect(err.name).toBe('ValidationError')
    const err2 = await rejection(
      modify([
        {
          ...weighted([
            [blue, 1],
            [green, 1]
          ])[0],
          TargetGroupArn: blue
        }
      ])
    )
    expect(err2.name).toBe('ValidationError')
  })

  test('unknown target group raises TargetGroupNotFoundException and changes nothing', async () => {
    const missing = blue.replace(/[0-9a-f]{16}$/, '0000000000000000')
    const err = await rejection(
      modify(
        weighted([
          [blue, 1],
          [missing, 1]
        ])
      )
    )
    expect(err.name).toBe('TargetGroupNotFoundException')
    expect(h.world.listeners.get(listener)!.defaultActions[0].ForwardConfig!.TargetGroups![0].Weight).toBe(100)
  })

  test('stickiness duration 1..604800', async () => {
    const sticky = (d: number): Action[] => [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: blue, Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: d }
        }
      }
    ]
    await modify(sticky(1))
    await modify(sticky(604800))
    for (const bad of [0, 604801]) expect((await rejection(modify(sticky(bad)))).name).toBe('ValidationError')
  })

  test('action Order 1..50000, unique, one terminal action, last', async () => {
    await modify(weighted([[blue, 1]], { Order: 50000 }))
    expect((await rejection(modify(weighted([[blue, 1]], { Order: 50001 })))).name).toBe('ValidationError')
    expect((await rejection(modify(weighted([[blue, 1]], { Order: 0 })))).name).toBe('ValidationError')
    const oidc: Action = {
      Type: 'authenticate-oidc',
      AuthenticateOidcConfig: {
        Issuer: 'https://idp',
        AuthorizationEndpoint: 'https://idp/a',
        TokenEndpoint: 'https://idp/t',
        UserInfoEndpoint: 'https://idp/u',
        ClientId: 'c'
      }
    }
    await modify([{ ...oidc, Order: 1 }, ...weighted([[blue, 1]], { Order: 2 })])
    const dupOrder = await rejection(modify([{ ...oidc, Order: 2 }, ...weighted([[blue, 1]], { Order: 2 })]))
    expect(dupOrder.name).toBe('InvalidLoadBalancerActionException')
    const notLast = await rejection(modify([{ ...oidc, Order: 3 }, ...weighted([[blue, 1]], { Order: 2 })]))
    expect(notLast.name).toBe('InvalidLoadBalancerActionException')
    const twoTerminal = await rejection(
      modify([
        ...weighted([[blue, 1]], { Order: 1 }),
        { Type: 'fixed-response', Order: 2, FixedResponseConfig: { StatusCode: '503' } }
      ])
    )
    expect(twoTerminal.name).toBe('InvalidLoadBalancerActionException')
  })

  test('DescribeRules lists rules by priority with the default rule last', async () => {
    const second = addRule(h.world, {
      listenerArn: listener,
      priority: 5,
      actions: [{ Type: 'forward', TargetGroupArn: green }]
    })
    const out = await h.elb.send(new DescribeRulesCommand({ ListenerArn: listener }))
    expect(out.Rules!.map((r) => r.RuleArn)).toEqual([second, rule, defaultRuleArn(listener)])
    expect(out.Rules!.map((r) => r.Priority)).toEqual(['5', '10', 'default'])
    expect(out.Rules!.map((r) => r.IsDefault)).toEqual([false, false, true])
    expect(out.Rules![1].Conditions![0]).toMatchObject({ Field: 'path-pattern', Values: ['/api/*'] })
    expect(out.Rules![2].Actions![0].ForwardConfig!.TargetGroups).toHaveLength(2)
    const byArn = await h.elb.send(new DescribeRulesCommand({ RuleArns: [defaultRuleArn(listener)] }))
    expect(byArn.Rules![0].IsDefault).toBe(true)
  })

  test('ModifyRule changes actions and conditions and records the weights', async () => {
    const out = await h.elb.send(
      new ModifyRuleCommand({
        RuleArn: rule,
        Actions: weighted([
          [blue, 70],
          [green, 30]
        ]),
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/v2/*'] } }]
      })
    )
    expect(out.Rules![0].Actions![0].ForwardConfig!.TargetGroups!.map((g) => g.Weight)).toEqual([70, 30])
    expect(out.Rules![0].Conditions![0].PathPatternConfig!.Values).toEqual(['/v2/*'])
    expect(h.world.weightChanges.at(-1)).toMatchObject({ routeArn: rule, weights: { [blue]: 70, [green]: 30 } })
    expect(
      (await rejection(h.elb.send(new ModifyRuleCommand({ RuleArn: rule, Actions: weighted([[blue, 1000]]) })))).name
    ).toBe('ValidationError')
  })

  test('ModifyRule on a missing or default rule fails with the named exception', async () => {
    const missing = await rejection(
      h.elb.send(
        new ModifyRuleCommand({
          RuleArn: rule.replace(/[0-9a-f]{16}$/, 'aaaaaaaaaaaaaaaa'),
          Actions: weighted([[blue, 1]])
        })
      )
    )
    expect(missing.name).toBe('RuleNotFoundException')
    const dflt = await rejection(
      h.elb.send(new ModifyRuleCommand({ RuleArn: defaultRuleArn(listener), Actions: weighted([[blue, 1]]) }))
    )
    expect(dflt.name).toBe('OperationNotPermittedException')
  })

  test('a target group no route forwards to loses its load balancer association', async () => {
    const lb = h.world.listeners.get(listener)!.loadBalancerArn
    expect(h.world.targetGroups.get(green)!.loadBalancerArns).toEqual([lb])
    await modify([{ Type: 'forward', TargetGroupArn: blue }])
    expect(h.world.targetGroups.get(green)!.loadBalancerArns).toEqual([])
    expect(h.world.targetGroups.get(blue)!.loadBalancerArns).toEqual([lb])
  })
})

describe('ELBv2 target groups', () => {
  test('DescribeTargetGroups reports whole-second health check settings', async () => {
    const out = await h.elb.send(new DescribeTargetGroupsCommand({ Names: ['web-blue'] }))
    const tg = out.TargetGroups![0]
    expect(tg.TargetGroupArn).toBe(blue)
    expect(tg.HealthCheckIntervalSeconds).toBe(1)
    expect(tg.HealthCheckTimeoutSeconds).toBe(3)
    expect(tg.HealthCheckPath).toBe('/health')
    expect(tg.Matcher).toEqual({ HttpCode: '200' })
    expect(tg.TargetType).toBe('instance')
    expect(tg.LoadBalancerArns).toEqual([h.world.listeners.get(listener)!.loadBalancerArn])
    const missing = await rejection(h.elb.send(new DescribeTargetGroupsCommand({ Names: ['nope'] })))
    expect(missing.name).toBe('TargetGroupNotFoundException')
  })

  test('DescribeTargetGroups paginates with Marker/NextMarker and bounds PageSize', async () => {
    for (let i = 0; i < 5; i++) addTargetGroup(h.world, { name: `tg-${i}` })
    const first = await h.elb.send(new DescribeTargetGroupsCommand({ PageSize: 3 }))
    expect(first.TargetGroups).toHaveLength(3)
    expect(first.NextMarker).toBeDefined()
    const names: string[] = []
    for await (const page of paginateDescribeTargetGroups({ client: h.elb, pageSize: 3 }, {})) {
      names.push(...page.TargetGroups!.map((t) => t.TargetGroupName!))
    }
    expect(names).toEqual(['web-blue', 'web-green', 'tg-0', 'tg-1', 'tg-2', 'tg-3', 'tg-4'])
    await h.elb.send(new DescribeTargetGroupsCommand({ PageSize: 400 }))
    expect((await rejection(h.elb.send(new DescribeTargetGroupsCommand({ PageSize: 401 })))).name).toBe(
      'ValidationError'
    )
    expect((await rejection(h.elb.send(new DescribeTargetGroupsCommand({ Marker: 'garbage' })))).name).toBe(
      'ValidationError'
    )
  })

  test('DescribeTargetGroupAttributes returns stickiness and deregistration delay', async () => {
    const sticky = addTargetGroup(h.world, {
      name: 'sticky',
      attributes: { 'stickiness.enabled': 'true', 'deregistration_delay.timeout_seconds': '5' }
    })
    const attrs = async (arn: string) =>
      Object.fromEntries(
        (await h.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))).Attributes!.map((a) => [
          a.Key,
          a.Value
        ])
      )
    expect(await attrs(blue)).toMatchObject({
      'stickiness.enabled': 'false',
      'stickiness.type': 'lb_cookie',
      'stickiness.lb_cookie.duration_seconds': '86400',
      'deregistration_delay.timeout_seconds': '300'
    })
    expect(await attrs(sticky)).toMatchObject({
      'stickiness.enabled': 'true',
      'deregistration_delay.timeout_seconds': '5'
    })
  })

  test('DescribeTargetHealth reports each target, and unregistered ones as unused', async () => {
    const all = await h.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: green }))
    expect(all.TargetHealthDescriptions).toEqual([
      {
        Target: { Id: instB, Port: 41002 },
        HealthCheckPort: '41002',
        TargetHealth: {
          State: 'unhealthy',
          Reason: 'Target.ResponseCodeMismatch',
          Description: 'Health checks failed with these codes: [500]'
        }
      }
    ])
    const some = await h.elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: blue, Targets: [{ Id: instA }, { Id: instB }] })
    )
    expect(some.TargetHealthDescriptions!.map((d) => d.TargetHealth!.State)).toEqual(['healthy', 'unused'])
    expect(some.TargetHealthDescriptions![1].TargetHealth!.Reason).toBe('Target.NotRegistered')
    const invalid = await rejection(
      h.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: blue, Targets: [{ Id: 'not-an-instance' }] }))
    )
    expect(invalid.name).toBe('InvalidTargetException')
  })
})

describe('ELBv2 tags', () => {
  test('AddTags, DescribeTags, RemoveTags on target groups, listeners and rules', async () => {
    await h.elb.send(
      new AddTagsCommand({ ResourceArns: [blue, listener, rule], Tags: [{ Key: 'deploy:version', Value: 'abc123' }] })
    )
    const out = await h.elb.send(new DescribeTagsCommand({ ResourceArns: [blue, listener, rule, green] }))
    expect(out.TagDescriptions!.map((d) => d.Tags)).toEqual([
      [{ Key: 'deploy:version', Value: 'abc123' }],
      [{ Key: 'deploy:version', Value: 'abc123' }],
      [{ Key: 'deploy:version', Value: 'abc123' }],
      []
    ])
    await h.elb.send(new RemoveTagsCommand({ ResourceArns: [blue], TagKeys: ['deploy:version'] }))
    expect(h.world.targetGroups.get(blue)!.tags.size).toBe(0)
    expect(h.world.listeners.get(listener)!.tags.get('deploy:version')).toBe('abc123')
  })

  test('DescribeTags takes 20 resources, not 21', async () => {
    const arns = Array.from({ length: 21 }, (_, i) => addTargetGroup(h.world, { name: `t${i}` }))
    expect(
      (await h.elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(0, 20) }))).TagDescriptions
    ).toHaveLength(20)
    expect((await rejection(h.elb.send(new DescribeTagsCommand({ ResourceArns: arns })))).name).toBe('ValidationError')
  })

  test('tag key 128 / value 256 characters, at most 50 tags, no duplicate keys', async () => {
    await h.elb.send(
      new AddTagsCommand({ ResourceArns: [blue], Tags: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }] })
    )
    expect(
      (
        await rejection(
          h.elb.send(new AddTagsCommand({ ResourceArns: [blue], Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] }))
        )
      ).name
    ).toBe('ValidationError')
    expect(
      (
        await rejection(
          h.elb.send(new AddTagsCommand({ ResourceArns: [blue], Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] }))
        )
      ).name
    ).toBe('ValidationError')
    const tags = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ Key: `t${from + i}`, Value: 'x' }))
    await h.elb.send(new AddTagsCommand({ ResourceArns: [green], Tags: tags(50) }))
    const tooMany = await rejection(h.elb.send(new AddTagsCommand({ ResourceArns: [green], Tags: tags(1, 50) })))
    expect(tooMany.name).toBe('TooManyTagsException')
    expect(h.world.targetGroups.get(green)!.tags.size).toBe(50)
    const dup = await rejection(
      h.elb.send(
        new AddTagsCommand({
          ResourceArns: [blue],
          Tags: [
            { Key: 'a', Value: '1' },
            { Key: 'a', Value: '2' }
          ]
        })
      )
    )
    expect(dup.name).toBe('DuplicateTagKeysException')
    const missing = await rejection(
      h.elb.send(new DescribeTagsCommand({ ResourceArns: [blue.replace(/[0-9a-f]{16}$/, 'ffffffffffffffff')] }))
    )
    expect(missing.name).toBe('TargetGroupNotFoundException')
  })
})
