import { describe, expect, it } from '@jest/globals'
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2'
import { DeployError } from '../../src/config/errors.js'
import type { Route } from '../../src/aws/elbv2.js'
import {
  describeRoute,
  findPair,
  forwardGroups,
  pairOnRoute,
  pairWeights,
  withWeights
} from '../../src/plan/forward-action.js'
import { describeWeights, readTrafficState, toPercent } from '../../src/plan/traffic-state.js'

const PREFIX = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012'
const LISTENER = `${PREFIX}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2`
const LISTENER_2 = `${PREFIX}:listener/app/web/50dc6c495c0c9188/0123456789abcdef`
const RULE = `${PREFIX}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`
const BLUE = `${PREFIX}:targetgroup/web-blue/0123456789abcdef`
const GREEN = `${PREFIX}:targetgroup/web-green/fedcba9876543210`
const OTHER = `${PREFIX}:targetgroup/web-other/aaaaaaaaaaaaaaaa`
const SPARE = `${PREFIX}:targetgroup/web-spare/bbbbbbbbbbbbbbbb`

const forward = (groups: Array<[string, number?]>, extra: Partial<Action> = {}): Action => ({
  Type: 'forward',
  ForwardConfig: {
    TargetGroups: groups.map(([arn, weight]) =>
      weight === undefined ? { TargetGroupArn: arn } : { TargetGroupArn: arn, Weight: weight }
    )
  },
  ...extra
})
const listener = (actions: Action[], arn = LISTENER): Route => ({ kind: 'listener', arn, actions })
const rule = (actions: Action[], arn = RULE): Route => ({ kind: 'rule', arn, actions })
const weighted = (blue: number, green: number, arn = LISTENER): Route =>
  listener(
    [
      forward([
        [BLUE, blue],
        [GREEN, green]
      ])
    ],
    arn
  )

const FIXED: Action = {
  Type: 'fixed-response',
  Order: 1,
  FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'down' }
}

function deployError(fn: () => unknown): DeployError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(DeployError)
    expect((error as Error).message).not.toMatch(/\n/)
    return error as DeployError
  }
  throw new Error('expected a DeployError, nothing was thrown')
}

describe('forwardGroups: both forms of forward action', () => {
  it('reads the single TargetGroupArn form as one group of weight 1', () => {
    expect(forwardGroups(listener([{ Type: 'forward', TargetGroupArn: BLUE }]))).toEqual([{ arn: BLUE, weight: 1 }])
  })
  it('reads ForwardConfig weights', () => {
    expect(forwardGroups(weighted(90, 10))).toEqual([
      { arn: BLUE, weight: 90 },
      { arn: GREEN, weight: 10 }
    ])
  })
  it('reads an omitted Weight as 1 (the ALB default)', () => {
    expect(forwardGroups(listener([forward([[BLUE], [GREEN, 0]])]))).toEqual([
      { arn: BLUE, weight: 1 },
      { arn: GREEN, weight: 0 }
    ])
  })
  it('prefers ForwardConfig when AWS returns both forms', () => {
    const route = listener([forward([[BLUE, 1]], { TargetGroupArn: BLUE })])
    expect(forwardGroups(route)).toEqual([{ arn: BLUE, weight: 1 }])
    const both = listener([
      forward(
        [
          [BLUE, 0],
          [GREEN, 5]
        ],
        { TargetGroupArn: BLUE }
      )
    ])
    expect(forwardGroups(both)).toEqual([
      { arn: BLUE, weight: 0 },
      { arn: GREEN, weight: 5 }
    ])
  })
  it('falls back to TargetGroupArn when ForwardConfig has no groups', () => {
    expect(
      forwardGroups(listener([{ Type: 'forward', TargetGroupArn: GREEN, ForwardConfig: { TargetGroups: [] } }]))
    ).toEqual([{ arn: GREEN, weight: 1 }])
  })
  it('finds the forward action after an authenticate action', () => {
    const route = rule([
      {
        Type: 'authenticate-cognito',
        Order: 1,
        AuthenticateCognitoConfig: { UserPoolArn: 'p', UserPoolClientId: 'c', UserPoolDomain: 'd' }
      },
      forward(
        [
          [BLUE, 100],
          [GREEN, 0]
        ],
        { Order: 2 }
      )
    ])
    expect(forwardGroups(route).map((g) => g.arn)).toEqual([BLUE, GREEN])
  })
  it('says a route without a forward action does not forward, listing its action types', () => {
    const error = deployError(() => forwardGroups(listener([FIXED])))
    expect(error.message).toContain(
      'Listener web listener f2f7dc8e does not forward to target groups (its actions: fixed-response)'
    )
    expect(error.message).toContain(
      'give the listener or rule whose action forwards to the blue and green target groups'
    )
  })
  it('says "none" for a route with no actions at all', () => {
    expect(deployError(() => forwardGroups(rule([]))).message).toContain('(its actions: none)')
  })
})

describe('pair discovery', () => {
  it('finds the two groups of the forward action, in action order', () => {
    expect(pairOnRoute(weighted(100, 0))).toEqual([BLUE, GREEN])
    expect(
      pairOnRoute(
        listener([
          forward([
            [GREEN, 0],
            [BLUE, 100]
          ])
        ])
      )
    ).toEqual([GREEN, BLUE])
  })
  it('returns the given pair when the action holds it among other groups', () => {
    const route = listener([
      forward([
        [OTHER, 10],
        [BLUE, 100],
        [GREEN, 0]
      ])
    ])
    expect(pairOnRoute(route, { blue: BLUE, green: GREEN })).toEqual([BLUE, GREEN])
  })
  it('returns the given pair as given even when the action lists it the other way round', () => {
    expect(
      pairOnRoute(
        listener([
          forward([
            [GREEN, 0],
            [BLUE, 100]
          ])
        ]),
        { blue: BLUE, green: GREEN }
      )
    ).toEqual([BLUE, GREEN])
  })
  it('one group only: names the group and says to add the idle group at weight 0', () => {
    const error = deployError(() => pairOnRoute(listener([{ Type: 'forward', TargetGroupArn: BLUE }])))
    expect(error.message).toContain('Listener web listener f2f7dc8e forwards only to web-blue')
    expect(error.message).toContain('add the idle target group to its forward action at weight 0')
  })
  it('one group in ForwardConfig form is the same error', () => {
    expect(deployError(() => findPair([rule([forward([[GREEN, 1]])])])).message).toMatch(
      /^Rule rule 9683b2d0 of web listener f2f7dc8e forwards only to web-green; add the idle target group .* at weight 0/
    )
  })
  it('no forward action (fixed-response): says it does not forward', () => {
    expect(deployError(() => findPair([listener([FIXED])])).message).toMatch(/does not forward to target groups/)
  })
  it('three groups without a given pair: names them and asks for blue/green-target-group-arn', () => {
    const error = deployError(() =>
      findPair([
        listener([
          forward([
            [BLUE, 1],
            [GREEN, 0],
            [OTHER, 1]
          ])
        ])
      ])
    )
    expect(error.message).toContain('forwards to 3 target groups (web-blue, web-green, web-other)')
    expect(error.message).toContain('blue-target-group-arn and green-target-group-arn')
  })
  it('given pair not in the action: names the missing group and says to add it at weight 0', () => {
    const error = deployError(() =>
      findPair(
        [
          listener([
            forward([
              [BLUE, 100],
              [OTHER, 0]
            ])
          ])
        ],
        { blue: BLUE, green: GREEN }
      )
    )
    expect(error.message).toContain('forwards to web-blue, web-other, not to web-green')
    expect(error.message).toContain('add web-green to its forward action (at weight 0 if idle)')
  })
  it('given pair against the single TargetGroupArn form holding only one of them', () => {
    const error = deployError(() =>
      pairOnRoute(listener([{ Type: 'forward', TargetGroupArn: GREEN }]), { blue: BLUE, green: GREEN })
    )
    expect(error.message).toContain('not to web-blue')
  })
  it('routes forwarding to different pairs are an error naming both routes', () => {
    const routes = [
      weighted(100, 0),
      listener(
        [
          forward([
            [BLUE, 100],
            [OTHER, 0]
          ])
        ],
        LISTENER_2
      )
    ]
    const error = deployError(() => findPair(routes))
    expect(error.message).toContain(
      'Listener web listener 01234567 forwards to web-blue and web-other but Listener web listener f2f7dc8e to web-blue and web-green'
    )
    expect(error.message).toContain('every route given must forward to the same two target groups')
  })
  it('routes listing the same pair in a different order agree; the first route fixes the order', () => {
    const routes = [
      weighted(100, 0),
      rule([
        forward([
          [GREEN, 0],
          [BLUE, 100]
        ])
      ])
    ]
    expect(findPair(routes)).toEqual([BLUE, GREEN])
  })
  it('an error on a later route is reported for that route', () => {
    const error = deployError(() => findPair([weighted(100, 0), rule([FIXED])]))
    expect(error.message).toMatch(/^Rule rule 9683b2d0/)
  })
})

describe('pairWeights', () => {
  it('gives the weight of each pair member, 0 for a member the action lacks, ignoring other groups', () => {
    expect(
      pairWeights(
        listener([
          forward([
            [BLUE, 999],
            [OTHER, 4]
          ])
        ]),
        [BLUE, GREEN]
      )
    ).toEqual({ [BLUE]: 999, [GREEN]: 0 })
  })
})

describe('readTrafficState: classification', () => {
  it('live / idle: all weight on one group', () => {
    const state = readTrafficState([weighted(100, 0)])
    expect(state).toMatchObject({
      pair: [BLUE, GREEN],
      percent: { [BLUE]: 100, [GREEN]: 0 },
      live: BLUE,
      idle: GREEN,
      mixed: false
    })
  })
  it('live / idle with ALB relative weights (999/0), raw weights kept per route', () => {
    const state = readTrafficState([weighted(999, 0)])
    expect(state.live).toBe(BLUE)
    expect(state.idle).toBe(GREEN)
    expect(state.routes[0].weights).toEqual({ [BLUE]: 999, [GREEN]: 0 })
  })
  it('green live after a flip', () => {
    const state = readTrafficState([weighted(0, 1)])
    expect(state).toMatchObject({ live: GREEN, idle: BLUE, mixed: false })
  })
  it('omitted Weight counts as 1: blue (no weight) / green 0 is blue live', () => {
    expect(readTrafficState([listener([forward([[BLUE], [GREEN, 0]])])])).toMatchObject({
      live: BLUE,
      idle: GREEN,
      mixed: false
    })
  })
  it.each([
    [10, 90, { [BLUE]: 10, [GREEN]: 90 }],
    [1, 1, { [BLUE]: 50, [GREEN]: 50 }],
    [3, 1, { [BLUE]: 75, [GREEN]: 25 }]
  ])('mixed: %p/%p is a canary in progress (%p)', (blue, green, percent) => {
    const state = readTrafficState([weighted(blue, green)])
    expect(state.mixed).toBe(true)
    expect(state.percent).toEqual(percent)
    expect(state.live).toBeUndefined()
    expect(state.idle).toBeUndefined()
  })
  it('routes agreeing in percent but not in raw weights agree', () => {
    const state = readTrafficState([
      weighted(100, 0),
      weighted(999, 0, LISTENER_2),
      listener(
        [
          forward([
            [BLUE, 1],
            [GREEN, 0]
          ])
        ],
        RULE
      )
    ])
    expect(state).toMatchObject({ percent: { [BLUE]: 100, [GREEN]: 0 }, live: BLUE, idle: GREEN, mixed: false })
    expect(state.routes.map((r) => r.weights[BLUE])).toEqual([100, 999, 1])
  })
  it('routes with the pair listed in different orders still agree', () => {
    const state = readTrafficState([
      weighted(90, 10),
      listener(
        [
          forward([
            [GREEN, 1],
            [BLUE, 9]
          ])
        ],
        LISTENER_2
      )
    ])
    expect(state).toMatchObject({ percent: { [BLUE]: 90, [GREEN]: 10 }, mixed: true })
  })
  it('disagreeing routes: no percent, no live, no idle, not "mixed"', () => {
    const state = readTrafficState([weighted(100, 0), weighted(50, 50, LISTENER_2)])
    expect(state.percent).toBeUndefined()
    expect(state.live).toBeUndefined()
    expect(state.idle).toBeUndefined()
    expect(state.mixed).toBe(false)
    expect(state.routes).toHaveLength(2)
  })
  it('disagreeing routes: one flipped, one not', () => {
    const state = readTrafficState([weighted(100, 0), weighted(0, 100, LISTENER_2)])
    expect(state.percent).toBeUndefined()
    expect(state.live).toBeUndefined()
  })
  it('both weights 0 is an error telling to give the live group a weight', () => {
    const error = deployError(() => readTrafficState([weighted(100, 0), weighted(0, 0, LISTENER_2)]))
    expect(error.message).toContain('Listener web listener 01234567 gives weight 0 to both web-blue and web-green')
    expect(error.message).toContain('give the live target group a weight above 0')
  })
  it('a given pair among three groups: only the pair counts', () => {
    const route = listener([
      forward([
        [OTHER, 50],
        [BLUE, 50],
        [GREEN, 0]
      ])
    ])
    const state = readTrafficState([route], { blue: BLUE, green: GREEN })
    expect(state).toMatchObject({ pair: [BLUE, GREEN], percent: { [BLUE]: 100, [GREEN]: 0 }, live: BLUE, idle: GREEN })
  })
  it('discovery errors surface from readTrafficState', () => {
    expect(() => readTrafficState([listener([{ Type: 'forward', TargetGroupArn: BLUE }])])).toThrow(
      /forwards only to web-blue/
    )
  })

  // KNOWN BUG (reported): toPercent rounds 1 of 1000 to 0 %, so a fleet still taking traffic
  // (999/1) is classified idle and a deploy would run its commands on a serving fleet.
  it('a group with any weight above 0 is never idle (999/1 is a canary in progress)', () => {
    const state = readTrafficState([weighted(999, 1)])
    expect(state.idle).toBeUndefined()
    expect(state.mixed).toBe(true)
  })
})

describe('toPercent', () => {
  it.each([
    [999, 0, 100, 0],
    [1, 1, 50, 50],
    [3, 1, 75, 25],
    [2, 1, 67, 33],
    [0, 7, 0, 100],
    [0, 0, 0, 0],
    [10, 90, 10, 90]
  ])('%p/%p is %p%%/%p%%', (blue, green, pb, pg) => {
    expect(toPercent({ [BLUE]: blue, [GREEN]: green })).toEqual({ [BLUE]: pb, [GREEN]: pg })
  })
})

describe('describeWeights and describeRoute', () => {
  it('names the groups with their weights', () => {
    expect(describeWeights({ [BLUE]: 90, [GREEN]: 10 })).toBe('web-blue 90 / web-green 10')
  })
  it('labels listeners and rules', () => {
    expect(describeRoute(listener([]))).toBe('Listener web listener f2f7dc8e')
    expect(describeRoute(rule([]))).toBe('Rule rule 9683b2d0 of web listener f2f7dc8e')
  })
})

describe('withWeights', () => {
  const OIDC: Action = {
    Type: 'authenticate-oidc',
    Order: 1,
    AuthenticateOidcConfig: {
      Issuer: 'https://idp.example.com',
      AuthorizationEndpoint: 'https://idp.example.com/authorize',
      TokenEndpoint: 'https://idp.example.com/token',
      UserInfoEndpoint: 'https://idp.example.com/userinfo',
      ClientId: 'client',
      SessionCookieName: 'AWSELBAuthSessionCookie',
      Scope: 'openid',
      OnUnauthenticatedRequest: 'authenticate'
    }
  }
  const FORWARD = forward([[BLUE, 100], [OTHER, 7], [GREEN, 0], [SPARE]], {
    Order: 2,
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: BLUE, Weight: 100 },
        { TargetGroupArn: OTHER, Weight: 7 },
        { TargetGroupArn: GREEN, Weight: 0 },
        { TargetGroupArn: SPARE }
      ],
      TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 }
    }
  })
  const route = () => rule([structuredClone(OIDC), structuredClone(FORWARD), structuredClone(FIXED)])

  it('changes only the pair weights and keeps every other action exactly, in order', () => {
    const r = route()
    const before = structuredClone(r.actions)
    const actions = withWeights(r, { [BLUE]: 90, [GREEN]: 10 }, { mode: 'keep' })

    expect(actions.map((a) => [a.Type, a.Order])).toEqual([
      ['authenticate-oidc', 1],
      ['forward', 2],
      ['fixed-response', 1]
    ])
    // The OIDC action: the same, plus the flag that lets the write omit the unreadable secret.
    expect(actions[0]).toEqual({
      ...OIDC,
      AuthenticateOidcConfig: { ...OIDC.AuthenticateOidcConfig, UseExistingClientSecret: true }
    })
    // Other actions pass through untouched.
    expect(actions[2]).toEqual(FIXED)
    // The forward action: pair reweighted, third group unchanged, omitted weight written as its value 1, stickiness kept.
    expect(actions[1]).toEqual({
      Type: 'forward',
      Order: 2,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: 90 },
          { TargetGroupArn: OTHER, Weight: 7 },
          { TargetGroupArn: GREEN, Weight: 10 },
          { TargetGroupArn: SPARE, Weight: 1 }
        ],
        TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 }
      }
    })
    // The route as read is not modified.
    expect(r.actions).toEqual(before)
  })

  it('leaves a cognito action and its config exactly as read', () => {
    const cognito: Action = {
      Type: 'authenticate-cognito',
      Order: 1,
      AuthenticateCognitoConfig: { UserPoolArn: 'arn:pool', UserPoolClientId: 'c', UserPoolDomain: 'd' }
    }
    const actions = withWeights(
      rule([
        cognito,
        forward(
          [
            [BLUE, 100],
            [GREEN, 0]
          ],
          { Order: 2 }
        )
      ]),
      { [BLUE]: 0, [GREEN]: 100 },
      { mode: 'keep' }
    )
    expect(actions[0]).toEqual(cognito)
  })

  it('rewrites the single TargetGroupArn form into ForwardConfig without TargetGroupArn', () => {
    const actions = withWeights(
      listener([{ Type: 'forward', TargetGroupArn: BLUE, Order: 1 }]),
      { [BLUE]: 5 },
      { mode: 'keep' }
    )
    expect(actions).toEqual([
      { Type: 'forward', Order: 1, ForwardConfig: { TargetGroups: [{ TargetGroupArn: BLUE, Weight: 5 }] } }
    ])
    expect(actions[0]).not.toHaveProperty('TargetGroupArn')
  })

  it('drops TargetGroupArn when AWS returned both forms', () => {
    const actions = withWeights(
      listener([
        forward(
          [
            [BLUE, 1],
            [GREEN, 0]
          ],
          { TargetGroupArn: BLUE }
        )
      ]),
      { [BLUE]: 0, [GREEN]: 1 },
      { mode: 'keep' }
    )
    expect(actions[0]).not.toHaveProperty('TargetGroupArn')
    expect(actions[0].ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: BLUE, Weight: 0 },
      { TargetGroupArn: GREEN, Weight: 1 }
    ])
  })

  it('does not add groups that are not in the forward action', () => {
    const actions = withWeights(weighted(100, 0), { [BLUE]: 50, [GREEN]: 50, [OTHER]: 10 }, { mode: 'keep' })
    expect(actions[0].ForwardConfig?.TargetGroups?.map((g) => g.TargetGroupArn)).toEqual([BLUE, GREEN])
  })

  it('stickiness keep with none configured writes none', () => {
    const actions = withWeights(weighted(100, 0), { [BLUE]: 90, [GREEN]: 10 }, { mode: 'keep' })
    expect(actions[0].ForwardConfig).not.toHaveProperty('TargetGroupStickinessConfig')
  })
  it('stickiness off disables it', () => {
    const actions = withWeights(route(), { [BLUE]: 90, [GREEN]: 10 }, { mode: 'off' })
    expect(actions[1].ForwardConfig?.TargetGroupStickinessConfig).toEqual({ Enabled: false })
  })
  it('stickiness on sets the duration', () => {
    const actions = withWeights(weighted(100, 0), { [BLUE]: 90, [GREEN]: 10 }, { mode: 'on', durationSeconds: 3600 })
    expect(actions[0].ForwardConfig?.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 3600 })
  })
})
