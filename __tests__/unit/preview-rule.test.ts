// The preview route's placement rules, pure: which priority, which conditions and actions, which
// curl line, and which rules are this action's.
import { describe, expect, it } from '@jest/globals'
import type { Action, Rule } from '@aws-sdk/client-elastic-load-balancing-v2'
import {
  curlLine,
  listenerOfRoute,
  mayBePreviewRule,
  planPreviewRules,
  PREVIEW_TAG,
  type PreviewedRoute,
  previewedFleet
} from '../../src/plan/preview-rule.js'

const PREFIX = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012'
const LISTENER = `${PREFIX}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2`
const LISTENER_2 = `${PREFIX}:listener/app/web/50dc6c495c0c9188/0123456789abcdef`
const rule = (id: string) => `${PREFIX}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/${id}`
const BLUE = `${PREFIX}:targetgroup/web-blue/0123456789abcdef`
const GREEN = `${PREFIX}:targetgroup/web-green/fedcba9876543210`
const PAIR_FORWARD = {
  Type: 'forward' as const,
  ForwardConfig: {
    TargetGroups: [
      { TargetGroupArn: BLUE, Weight: 100 },
      { TargetGroupArn: GREEN, Weight: 0 }
    ],
    TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 60 }
  }
}
const defaultRule = (actions: Action[] = [PAIR_FORWARD]): Rule => ({
  RuleArn: rule('ffffffffffffffff'),
  Priority: 'default',
  IsDefault: true,
  Actions: actions
})
const userRule = (id: string, priority: number, extra: Partial<Rule> = {}): Rule => ({
  RuleArn: rule(id),
  Priority: String(priority),
  IsDefault: false,
  Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }],
  Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
  ...extra
})
const onListener = (rules: Rule[]): PreviewedRoute => ({
  kind: 'listener',
  arn: LISTENER,
  listenerArn: LISTENER,
  listenerRules: rules
})
const onRule = (id: string, rules: Rule[]): PreviewedRoute => ({
  kind: 'rule',
  arn: rule(id),
  listenerArn: LISTENER,
  listenerRules: rules
})
const plan = (routes: PreviewedRoute[], extra: { priority?: number; replaced?: string[] } = {}) =>
  planPreviewRules({ routes, header: 'X-Preview', value: 'v2', newFleet: GREEN, ...extra })

describe('planPreviewRules: priority', () => {
  it.each([
    ['a listener with no rules', [] as Rule[]],
    ['a listener with rules at 1, 2 and 49999', [userRule('a1', 1), userRule('a2', 2), userRule('a3', 49999)]]
  ])('%s: the default action is previewed after every rule, at 50000', (_name, rules) => {
    expect(plan([onListener([...rules, defaultRule()])])[0].priority).toBe(50000)
  })
  it('a rule at 50000 leaves no room after every rule: refused, naming preview-priority', () => {
    expect(() => plan([onListener([userRule('a1', 50000), defaultRule()])])).toThrow(/give preview-priority/)
  })
  it('an earlier preview rule being replaced does not count as taken', () => {
    expect(plan([onListener([userRule('a1', 50000), defaultRule()])], { replaced: [rule('a1')] })[0].priority).toBe(
      50000
    )
  })
  it.each([
    [[5, 10], 10, 9],
    [[10], 10, 9],
    [[1, 3, 100], 100, 99],
    [[2], 2, 1]
  ])('rules at %p: the rule at %p is previewed right before it, at %p', (priorities, own, expected) => {
    const rules = priorities.map((p) => userRule(`r${p}`, p))
    expect(plan([onRule(`r${own}`, [...rules, defaultRule()])])[0].priority).toBe(expected)
  })
  it.each([
    [[9, 10], 10],
    [[1], 1]
  ])('rules at %p: no room right before %p, refused', (priorities, own) => {
    const rules = priorities.map((p) => userRule(`r${p}`, p))
    expect(() => plan([onRule(`r${own}`, [...rules, defaultRule()])])).toThrow(/No free priority right before rule/)
  })
  it('preview-priority is used as given when free and, for a rule, before it', () => {
    expect(plan([onListener([userRule('a1', 7), defaultRule()])], { priority: 3 })[0].priority).toBe(3)
    expect(plan([onRule('a1', [userRule('a1', 7), defaultRule()])], { priority: 3 })[0].priority).toBe(3)
  })
  it('preview-priority taken, or after the rule it previews, is refused', () => {
    expect(() => plan([onListener([userRule('a1', 7), defaultRule()])], { priority: 7 })).toThrow(
      /preview-priority 7 is taken/
    )
    expect(() => plan([onRule('a1', [userRule('a1', 7), defaultRule()])], { priority: 8 })).toThrow(
      /comes after rule .* \(priority 7\), which would answer the requests first/
    )
  })
  it('preview-priority cannot serve two routes of one listener', () => {
    const rules = [userRule('a1', 7), defaultRule()]
    expect(() => plan([onListener(rules), onRule('a1', rules)], { priority: 3 })).toThrow(
      /cannot serve two routes of one listener/
    )
  })
  it('two routes of one listener get two different priorities; two listeners each their own', () => {
    const rules = [userRule('a1', 7), defaultRule()]
    expect(plan([onListener(rules), onRule('a1', rules)]).map((p) => p.priority)).toEqual([50000, 6])
    const second: PreviewedRoute = {
      kind: 'listener',
      arn: LISTENER_2,
      listenerArn: LISTENER_2,
      listenerRules: [defaultRule()]
    }
    expect(plan([onListener([defaultRule()]), second]).map((p) => [p.listenerArn, p.priority])).toEqual([
      [LISTENER, 50000],
      [LISTENER_2, 50000]
    ])
  })
})

describe('planPreviewRules: conditions and actions', () => {
  it("a listener's preview matches the header only and forwards to the new fleet only, stickiness dropped", () => {
    const [p] = plan([onListener([defaultRule()])])
    expect(p.conditions).toEqual([
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Preview', Values: ['v2'] } }
    ])
    expect(p.actions).toEqual([
      { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: GREEN, Weight: 1 }] } }
    ])
  })
  it("a rule's preview keeps its conditions, in one form each, and its transforms", () => {
    const own = userRule('a1', 10, {
      Conditions: [
        { Field: 'host-header', Values: ['web.example.com'], HostHeaderConfig: { Values: ['web.example.com'] } },
        { Field: 'path-pattern', Values: ['/shop/*'] },
        { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'beta', Value: '1' }] } }
      ],
      Actions: [{ ...PAIR_FORWARD, Order: 2 }],
      Transforms: [{ Type: 'url-rewrite', UrlRewriteConfig: { Rewrites: [{ Regex: '^/shop/(.*)$', Replace: '/$1' }] } }]
    })
    const [p] = plan([onRule('a1', [own, defaultRule()])])
    expect(p.conditions).toEqual([
      { Field: 'host-header', HostHeaderConfig: { Values: ['web.example.com'] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/shop/*'] } },
      { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'beta', Value: '1' }] } },
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Preview', Values: ['v2'] } }
    ])
    expect(p.actions).toEqual([
      { Type: 'forward', Order: 2, ForwardConfig: { TargetGroups: [{ TargetGroupArn: GREEN, Weight: 1 }] } }
    ])
    expect(p.transforms).toEqual(own.Transforms)
  })
  it('a rule with five match evaluations has no room for the header: refused', () => {
    const own = userRule('a1', 10, {
      Conditions: [
        { Field: 'host-header', HostHeaderConfig: { Values: ['a.example.com', 'b.example.com', 'c.example.com'] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/a', '/b'] } }
      ]
    })
    expect(() => plan([onRule('a1', [own, defaultRule()])])).toThrow(/already has 5 match evaluations/)
  })
  it('a Cognito sign-in is kept in front of the forward; an OIDC one cannot be copied and is refused', () => {
    const cognito = {
      Type: 'authenticate-cognito' as const,
      Order: 1,
      AuthenticateCognitoConfig: { UserPoolArn: 'p', UserPoolClientId: 'c', UserPoolDomain: 'd' }
    }
    const [p] = plan([onListener([defaultRule([cognito, { ...PAIR_FORWARD, Order: 2 }])])])
    expect(p.actions.map((a) => a.Type)).toEqual(['authenticate-cognito', 'forward'])
    expect(p.actions[0]).toEqual(cognito)
    const oidc = {
      Type: 'authenticate-oidc' as const,
      Order: 1,
      AuthenticateOidcConfig: {
        Issuer: 'i',
        AuthorizationEndpoint: 'a',
        TokenEndpoint: 't',
        UserInfoEndpoint: 'u',
        ClientId: 'c'
      }
    }
    expect(() => plan([onListener([defaultRule([oidc, { ...PAIR_FORWARD, Order: 2 }])])])).toThrow(
      /signs users in with OIDC/
    )
  })
})

describe('curlLine', () => {
  const header = [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Preview', Values: ['v2'] } }]
  it.each([
    [
      { protocol: 'HTTP', port: 80, dnsName: 'web-1.eu-west-1.elb.amazonaws.com' },
      "curl -H 'X-Preview: v2' http://web-1.eu-west-1.elb.amazonaws.com/"
    ],
    [
      { protocol: 'HTTP', port: 8080, dnsName: 'web-1.elb.amazonaws.com' },
      "curl -H 'X-Preview: v2' http://web-1.elb.amazonaws.com:8080/"
    ],
    [
      { protocol: 'HTTPS', port: 443, dnsName: 'web-1.elb.amazonaws.com' },
      "curl -H 'X-Preview: v2' https://web-1.elb.amazonaws.com/"
    ],
    [{ protocol: 'HTTPS', port: 8443 }, "curl -H 'X-Preview: v2' https://LOAD-BALANCER-DNS-NAME:8443/"]
  ])('%p', (address, line) => {
    expect(curlLine({ conditions: header }, address, 'X-Preview', 'v2')).toBe(line)
  })
  it("uses the rule's own plain host and path, so the request matches the rule", () => {
    const conditions = [
      { Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } },
      ...header
    ]
    expect(curlLine({ conditions }, { protocol: 'HTTPS', port: 443, dnsName: 'x' }, 'X-Preview', 'v2')).toBe(
      "curl -H 'X-Preview: v2' https://shop.example.com/api/"
    )
  })
  it('leaves out a wildcard host and a path a shell would read (quotes, $, &)', () => {
    const conditions = [
      { Field: 'host-header', HostHeaderConfig: { Values: ['*.example.com'] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: ["/a'$(id)&b"] } },
      ...header
    ]
    expect(curlLine({ conditions }, { protocol: 'HTTP', port: 80, dnsName: 'lb' }, 'X-Preview', 'v2')).toBe(
      "curl -H 'X-Preview: v2' http://lb/"
    )
  })
})

describe('which rules are previews', () => {
  const preview: Rule = {
    RuleArn: rule('0000000000000001'),
    Priority: '50000',
    Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Preview', Values: ['v2'] } }],
    Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: GREEN, Weight: 1 }] } }]
  }
  it('a header rule forwarding to one group of the pair may be one; the tag decides', () => {
    expect(mayBePreviewRule(preview, [BLUE, GREEN])).toBe(true)
    expect(mayBePreviewRule({ ...preview, Conditions: [] }, [BLUE, GREEN])).toBe(false)
    expect(mayBePreviewRule({ ...preview, Actions: [PAIR_FORWARD] }, [BLUE, GREEN])).toBe(false)
    expect(mayBePreviewRule(defaultRule(), [BLUE, GREEN])).toBe(false)
    expect(previewedFleet({ [PREVIEW_TAG]: GREEN }, [BLUE, GREEN])).toBe(GREEN)
    expect(previewedFleet({ [PREVIEW_TAG]: 'another-group' }, [BLUE, GREEN])).toBeUndefined()
    expect(previewedFleet({}, [BLUE, GREEN])).toBeUndefined()
  })
  it("a rule's listener is read from its ARN", () => {
    expect(listenerOfRoute({ kind: 'rule', arn: rule('9683b2d02a6cabee') })).toBe(LISTENER)
    expect(listenerOfRoute({ kind: 'listener', arn: LISTENER_2 })).toBe(LISTENER_2)
  })
})
