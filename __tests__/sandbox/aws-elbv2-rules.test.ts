import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ModifyRuleCommand,
  paginateDescribeListeners,
  paginateDescribeLoadBalancers,
  paginateDescribeRules,
  type CreateRuleCommandInput,
  type RuleCondition
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {
  addListener,
  addRule,
  addTargetGroup,
  defaultRuleArn,
  forwardAction,
  newLoadBalancerArn
} from '../../sandbox/aws/fixtures.js'
import { rejection, startHarness, type Harness } from './aws-helpers.js'

let h: Harness
let lb: string
let listener: string
let blue: string
let green: string

beforeEach(async () => {
  h = await startHarness()
  blue = addTargetGroup(h.world, { name: 'web-blue' })
  green = addTargetGroup(h.world, { name: 'web-green' })
  lb = newLoadBalancerArn(h.world, 'web')
  listener = addListener(h.world, {
    loadBalancerArn: lb,
    port: 80,
    defaultActions: [forwardAction({ [blue]: 100, [green]: 0 })]
  })
})

afterEach(async () => {
  await h.close()
})

const header = (name: string, ...values: string[]): RuleCondition => ({
  Field: 'http-header',
  HttpHeaderConfig: { HttpHeaderName: name, Values: values }
})
const forwardTo = (arn: string) => [{ Type: 'forward' as const, TargetGroupArn: arn }]
const create = (input: Partial<CreateRuleCommandInput>) =>
  h.elb.send(
    new CreateRuleCommand({
      ListenerArn: listener,
      Priority: 10,
      Conditions: [header('X-Preview', 'v2')],
      Actions: forwardTo(green),
      ...input
    })
  )

describe('ELBv2 listing: load balancers, listeners, rules (paged)', () => {
  test('DescribeLoadBalancers by ARN, by name and all, with the shape AWS returns', async () => {
    const other = newLoadBalancerArn(h.world, 'api')
    addListener(h.world, { loadBalancerArn: other, port: 81, defaultActions: [forwardAction({ [blue]: 1 })] })
    const byArn = (await h.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb] }))).LoadBalancers!
    expect(byArn).toHaveLength(1)
    expect(byArn[0]).toMatchObject({
      LoadBalancerArn: lb,
      LoadBalancerName: 'web',
      Type: 'application',
      Scheme: 'internet-facing',
      State: { Code: 'active' },
      CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      IpAddressType: 'ipv4'
    })
    expect(byArn[0].DNSName).toMatch(/^web-\d+\.us-east-1\.elb\.amazonaws\.com$/)
    expect(byArn[0].CreatedTime).toBeInstanceOf(Date)
    const byName = (await h.elb.send(new DescribeLoadBalancersCommand({ Names: ['api'] }))).LoadBalancers!
    expect(byName.map((l) => l.LoadBalancerArn)).toEqual([other])
    const all = (await h.elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers!
    expect(all.map((l) => l.LoadBalancerName).sort()).toEqual(['api', 'web'])
    const pages: string[][] = []
    for await (const p of paginateDescribeLoadBalancers({ client: h.elb }, { PageSize: 1 }))
      pages.push(p.LoadBalancers!.map((l) => l.LoadBalancerName!))
    expect(pages).toHaveLength(2)
    for (const input of [
      { Names: ['nope'] },
      { LoadBalancerArns: [lb.replace(/[0-9a-f]{16}$/, '0000000000000000')] }
    ]) {
      const err = await rejection(h.elb.send(new DescribeLoadBalancersCommand(input)))
      expect(err.name).toBe('LoadBalancerNotFoundException')
      expect(err.$metadata?.httpStatusCode).toBe(400)
    }
  })

  test('DescribeListeners by load balancer pages with PageSize and Marker', async () => {
    const more = [8081, 8082].map((port) =>
      addListener(h.world, { loadBalancerArn: lb, port, defaultActions: [forwardAction({ [blue]: 1 })] })
    )
    const first = await h.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb, PageSize: 2 }))
    expect(first.Listeners!.map((l) => l.ListenerArn)).toEqual([listener, more[0]])
    expect(first.NextMarker).toBeDefined()
    const second = await h.elb.send(
      new DescribeListenersCommand({ LoadBalancerArn: lb, PageSize: 2, Marker: first.NextMarker })
    )
    expect(second.Listeners!.map((l) => l.ListenerArn)).toEqual([more[1]])
    expect(second.NextMarker).toBeUndefined()
    // The SDK's paginators carry PageSize through the input (ELBv2 models no page-size token).
    const seen: string[] = []
    for await (const p of paginateDescribeListeners({ client: h.elb }, { LoadBalancerArn: lb, PageSize: 1 }))
      seen.push(...p.Listeners!.map((l) => l.ListenerArn!))
    expect(seen).toEqual([listener, ...more])
    expect(
      (await rejection(h.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb, Marker: 'bogus' })))).name
    ).toBe('ValidationError')
    expect(
      (await rejection(h.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb, PageSize: 401 })))).name
    ).toBe('ValidationError')
  })

  test('DescribeRules by listener pages in priority order and ends with the default rule', async () => {
    const r20 = addRule(h.world, { listenerArn: listener, priority: 20, actions: forwardTo(blue) })
    const r5 = addRule(h.world, { listenerArn: listener, priority: 5, actions: forwardTo(green) })
    const rules: Array<{ arn: string; priority: string; isDefault: boolean }> = []
    for await (const p of paginateDescribeRules({ client: h.elb }, { ListenerArn: listener, PageSize: 2 })) {
      expect(p.Rules!.length).toBeLessThanOrEqual(2)
      rules.push(...p.Rules!.map((r) => ({ arn: r.RuleArn!, priority: r.Priority!, isDefault: r.IsDefault! })))
    }
    expect(rules).toEqual([
      { arn: r5, priority: '5', isDefault: false },
      { arn: r20, priority: '20', isDefault: false },
      { arn: defaultRuleArn(listener), priority: 'default', isDefault: true }
    ])
    const missing = await rejection(
      h.elb.send(new DescribeRulesCommand({ ListenerArn: listener.replace(/[0-9a-f]{16}$/, '0000000000000000') }))
    )
    expect(missing.name).toBe('ListenerNotFoundException')
  })
})

describe('ELBv2 rule writes: CreateRule, DeleteRule, ModifyRule', () => {
  test('CreateRule with an http-header condition returns the rule; DescribeRules and the tags show it', async () => {
    const out = await create({ Priority: 7, Tags: [{ Key: 'bluegreen:preview', Value: 'v2' }] })
    const rule = out.Rules![0]
    expect(rule.RuleArn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule\/app\/web\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/
    )
    expect(rule).toMatchObject({ Priority: '7', IsDefault: false })
    expect(rule.Conditions).toEqual([
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Preview', Values: ['v2'] } }
    ])
    expect(rule.Actions![0]).toMatchObject({ Type: 'forward', TargetGroupArn: green })
    const listed = (await h.elb.send(new DescribeRulesCommand({ ListenerArn: listener }))).Rules!
    expect(listed.map((r) => r.Priority)).toEqual(['7', 'default'])
    const tags = await h.elb.send(new DescribeTagsCommand({ ResourceArns: [rule.RuleArn!] }))
    expect(tags.TagDescriptions![0].Tags).toEqual([{ Key: 'bluegreen:preview', Value: 'v2' }])
    // The rule is a route: its forward weights are recorded like ModifyRule's.
    expect(h.world.weightChanges.at(-1)).toMatchObject({ routeArn: rule.RuleArn, weights: { [green]: 1 } })
  })

  test('host-header and path-pattern conditions are returned with both Values and their config, as AWS does', async () => {
    const out = await create({
      Conditions: [
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*', '/v2/*'] } },
        { Field: 'host-header', Values: ['*.example.com'] }
      ]
    })
    expect(out.Rules![0].Conditions).toEqual([
      { Field: 'path-pattern', Values: ['/api/*', '/v2/*'], PathPatternConfig: { Values: ['/api/*', '/v2/*'] } },
      { Field: 'host-header', Values: ['*.example.com'], HostHeaderConfig: { Values: ['*.example.com'] } }
    ])
  })

  test('a priority is unique per listener (PriorityInUse) and within 1..50000', async () => {
    await create({ Priority: 10 })
    const err = await rejection(create({ Priority: 10 }))
    expect(err.name).toBe('PriorityInUseException')
    expect(err.message).toBe("Priority '10' is currently in use")
    expect(err.$metadata?.httpStatusCode).toBe(400)
    const other = addListener(h.world, {
      loadBalancerArn: lb,
      port: 443,
      defaultActions: [forwardAction({ [blue]: 1 })]
    })
    await create({ ListenerArn: other, Priority: 10 })
    await create({ Priority: 50000 })
    for (const bad of [0, 50001]) expect((await rejection(create({ Priority: bad }))).name).toBe('ValidationError')
    expect([...h.world.rules.values()].map((r) => r.priority).sort()).toEqual(['10', '10', '50000'])
  })

  test('condition limits: 3 values per condition, 5 per rule, 5 wildcards, one path/host/method/source-ip each', async () => {
    const cases: Array<[RuleCondition[], RegExp]> = [
      [[header('X-A', 'a', 'b', 'c', 'd')], /only have '3' values/],
      [[header('X-A', 'a', 'b', 'c'), header('X-B', 'd', 'e', 'f')], /only have '5' condition values/],
      [
        [header('X-A', '*a*', '*b*'), { Field: 'path-pattern', PathPatternConfig: { Values: ['/x/*', '/y/*'] } }],
        /only have '5' wildcards/
      ],
      [
        [
          { Field: 'path-pattern', Values: ['/a'] },
          { Field: 'path-pattern', Values: ['/b'] }
        ],
        /only have one 'path-pattern'/
      ],
      [[header('Host', 'example.com')], /host header/],
      [[header('X-*', 'a')], /wildcards are not supported/],
      [[header('X-' + 'a'.repeat(39), 'a')], /40 characters/],
      [[header('X-A', 'a'.repeat(129))], /128 characters/],
      [[header('X-A')], /can't be empty/],
      [[{ Field: 'host-header', Values: ['localhost'] }], /at least one "\."/],
      [[{ Field: 'host-header', Values: ['a.com', 'b.com'] }], /Only one value/],
      [[{ Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['get'] } }], /A-Z/],
      [[{ Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.1'] } }], /CIDR/],
      [[{ Field: 'cookie' as never, Values: ['x'] }], /must be one of/],
      [
        [{ Field: 'path-pattern', HttpHeaderConfig: { HttpHeaderName: 'X-A', Values: ['a'] } }],
        /'HttpHeaderConfig' can only be specified with the 'http-header' field/
      ],
      [[], /at least one condition/]
    ]
    for (const [Conditions, message] of cases) {
      const err = await rejection(create({ Conditions }))
      expect([err.name, err.message]).toEqual(['ValidationError', expect.stringMatching(message)])
    }
    expect(h.world.rules.size).toBe(0)
    // At the limits exactly, and several http-header conditions, it is accepted.
    await create({
      Conditions: [
        header('X-A', 'a*', 'b?'),
        header('X-B', 'c'),
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/x/*', '/y/*'] } }
      ]
    })
    await create({
      Priority: 11,
      Conditions: [
        { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['GET', 'HEAD'] } },
        { Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8', '2001:db8::/32'] } },
        { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'preview', Value: 'on' }] } }
      ]
    })
    expect(h.world.rules.size).toBe(2)
  })

  test('transforms, which the proxy does not apply, are refused loudly rather than ignored', async () => {
    const err = await rejection(
      create({
        Transforms: [{ Type: 'url-rewrite', UrlRewriteConfig: { Rewrites: [{ Regex: '^/a', Replace: '/b' }] } }]
      })
    )
    expect([err.name, err.message]).toEqual([
      'ValidationError',
      expect.stringMatching(/does not model rule transforms/)
    ])
    expect(h.world.rules.size).toBe(0)
  })

  test('CreateRule names missing listeners and target groups with their exceptions', async () => {
    const noListener = await rejection(create({ ListenerArn: listener.replace(/[0-9a-f]{16}$/, '0000000000000000') }))
    expect(noListener.name).toBe('ListenerNotFoundException')
    const noGroup = await rejection(create({ Actions: forwardTo(green.replace(/[0-9a-f]{16}$/, '0000000000000000')) }))
    expect(noGroup.name).toBe('TargetGroupNotFoundException')
    expect(h.world.rules.size).toBe(0)
  })

  test('at most 100 rules per load balancer (TooManyRules)', async () => {
    for (let p = 1; p <= 100; p++) addRule(h.world, { listenerArn: listener, priority: p, actions: forwardTo(blue) })
    const err = await rejection(create({ Priority: 101 }))
    expect(err.name).toBe('TooManyRulesException')
  })

  test('DeleteRule deletes once, refuses the default rule, and releases a group no route uses any more', async () => {
    const preview = addTargetGroup(h.world, { name: 'web-preview' })
    const arn = (await create({ Actions: forwardTo(preview) })).Rules![0].RuleArn!
    expect(h.world.targetGroups.get(preview)!.loadBalancerArns).toEqual([lb])
    await h.elb.send(new DeleteRuleCommand({ RuleArn: arn }))
    expect(h.world.rules.has(arn)).toBe(false)
    expect(h.world.targetGroups.get(preview)!.loadBalancerArns).toEqual([])
    const again = await rejection(h.elb.send(new DeleteRuleCommand({ RuleArn: arn })))
    expect(again.name).toBe('RuleNotFoundException')
    const dflt = await rejection(h.elb.send(new DeleteRuleCommand({ RuleArn: defaultRuleArn(listener) })))
    expect(dflt.name).toBe('OperationNotPermittedException')
    expect(dflt.message).toBe(`Default rule '${defaultRuleArn(listener)}' cannot be deleted`)
    expect(dflt.$metadata?.httpStatusCode).toBe(400)
  })

  test('ModifyRule cannot change a default rule (OperationNotPermitted) and validates new conditions', async () => {
    const dflt = await rejection(
      h.elb.send(new ModifyRuleCommand({ RuleArn: defaultRuleArn(listener), Actions: forwardTo(green) }))
    )
    expect(dflt.name).toBe('OperationNotPermittedException')
    expect(dflt.message).toBe(`Default rule '${defaultRuleArn(listener)}' cannot be modified`)
    expect(h.world.listeners.get(listener)!.defaultActions[0].ForwardConfig!.TargetGroups![1].Weight).toBe(0)
    const arn = (await create({})).Rules![0].RuleArn!
    const bad = await rejection(
      h.elb.send(new ModifyRuleCommand({ RuleArn: arn, Conditions: [header('X-Preview', 'a', 'b', 'c', 'd')] }))
    )
    expect(bad.name).toBe('ValidationError')
    const ok = await h.elb.send(new ModifyRuleCommand({ RuleArn: arn, Conditions: [header('x-preview', 'v3')] }))
    expect(ok.Rules![0].Conditions![0].HttpHeaderConfig).toEqual({ HttpHeaderName: 'x-preview', Values: ['v3'] })
  })
})
