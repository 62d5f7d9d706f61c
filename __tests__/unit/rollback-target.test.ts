// Which fleet a rollback returns traffic to, and when it must refuse.
import { describe, expect, it } from '@jest/globals'
import type { InstanceHealth, Route } from '../../src/aws/elbv2.js'
import { DeployError } from '../../src/config/errors.js'
import { chooseRollbackTarget, isFailedRole, type RollbackView } from '../../src/plan/rollback-target.js'
import { readTrafficState } from '../../src/plan/traffic-state.js'

const PREFIX = 'arn:aws:elasticloadbalancing:us-east-1:123456789012'
const BLUE = `${PREFIX}:targetgroup/web-blue/0123456789abcdef`
const GREEN = `${PREFIX}:targetgroup/web-green/fedcba9876543210`
const LISTENER = `${PREFIX}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2`
const RULE = `${PREFIX}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`

const route = (kind: Route['kind'], arn: string, [blue, green]: [number, number]): Route => ({
  kind,
  arn,
  actions: [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: blue },
          { TargetGroupArn: GREEN, Weight: green }
        ]
      }
    }
  ]
})
const healthy: InstanceHealth[] = [{ id: 'i-1', state: 'healthy' }]

interface Fleet {
  role?: string
  version?: string
  instances?: InstanceHealth[]
}

function view(weights: Array<[number, number]>, blue: Fleet, green: Fleet): RollbackView {
  const routes = weights.map((w, i) => (i === 0 ? route('listener', LISTENER, w) : route('rule', RULE, w)))
  const fleet = (f: Fleet) => ({ record: { role: f.role, version: f.version }, instances: f.instances ?? healthy })
  return { traffic: readTrafficState(routes), fleets: { [BLUE]: fleet(blue), [GREEN]: fleet(green) } }
}

describe('chooseRollbackTarget', () => {
  it.each([
    [
      'a paused canary goes back to the fleet recorded live',
      view([[90, 10]], { role: 'live' }, { role: 'canary' }),
      { target: BLUE, from: GREEN, why: 'canary of web-green undone' }
    ],
    [
      'a canary with only the canary recorded goes back to the other fleet',
      view([[90, 10]], {}, { role: 'canary' }),
      { target: BLUE, from: GREEN, why: 'canary of web-green undone' }
    ],
    [
      'a canary past half goes back to the fleet recorded live: the record decides, not the weights',
      view([[10, 90]], { role: 'live' }, { role: 'canary' }),
      { target: BLUE, from: GREEN, why: 'canary of web-green undone' }
    ],
    [
      'routes left disagreeing are mended towards the recorded live fleet',
      view(
        [
          [50, 50],
          [100, 0]
        ],
        { role: 'live' },
        { role: 'canary' }
      ),
      { target: BLUE, from: GREEN, why: 'canary of web-green undone' }
    ],
    [
      'after a finished deploy, back to the previous fleet',
      view([[0, 100]], { role: 'previous', version: 'v1' }, { role: 'live', version: 'v2' }),
      { target: BLUE, from: GREEN, why: 'back to the previous release' }
    ],
    [
      'a previous fleet with no record is still the previous release',
      view([[100, 0]], {}, {}),
      { target: GREEN, from: BLUE, why: 'back to the previous release' }
    ]
  ])('%s', (_case, found, choice) => {
    expect(chooseRollbackTarget(found)).toEqual(choice)
  })

  it.each([
    [
      'split traffic with no record of the stable fleet',
      view([[50, 50]], {}, {}),
      /^Traffic is split \(web-blue 50 \/ web-green 50\) and no record says which fleet is stable; set the weights by hand/
    ],
    [
      'a previous fleet holding a failed deploy',
      view([[100, 0]], { role: 'live' }, { role: 'failed', version: 'v3' }),
      /^web-green holds a failed deploy of v3, not the previous release; deploy the version you want instead$/
    ],
    [
      'a previous fleet whose deploy never finished',
      view([[100, 0]], { role: 'live' }, { role: 'deploying' }),
      /^web-green holds a failed deploy, not the previous release/
    ],
    [
      'a previous fleet with an unhealthy target',
      view(
        [[0, 100]],
        {
          role: 'previous',
          instances: [...healthy, { id: 'i-2', state: 'unhealthy', reason: 'Target.FailedHealthChecks' }]
        },
        { role: 'live' }
      ),
      /^The previous fleet web-blue is not healthy \(i-2 unhealthy \(Target\.FailedHealthChecks\)\); traffic stays on web-green: fix or redeploy the previous version first$/
    ],
    [
      'a previous fleet with no targets',
      view([[0, 100]], { role: 'previous', instances: [] }, { role: 'live' }),
      /^The previous fleet web-blue is not healthy \(no registered targets\)/
    ]
  ])('refuses %s', (_case, found, message) => {
    expect(() => chooseRollbackTarget(found)).toThrow(DeployError)
    expect(() => chooseRollbackTarget(found)).toThrow(message)
  })
})

describe('isFailedRole', () => {
  it.each([
    ['failed', true],
    ['deploying', true],
    ['live', false],
    ['previous', false],
    ['canary', false],
    [undefined, false]
  ])('%s: %s', (role, failed) => {
    expect(isFailedRole(role)).toBe(failed)
  })
})
