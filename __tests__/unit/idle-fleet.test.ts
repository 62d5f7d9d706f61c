// Which fleet a deploy goes to, decided from the weights alone.
import { describe, expect, it } from '@jest/globals'
import type { Route } from '../../src/aws/elbv2.js'
import { DeployError } from '../../src/config/errors.js'
import { chooseIdleFleet } from '../../src/plan/idle-fleet.js'
import { readTrafficState } from '../../src/plan/traffic-state.js'

const PREFIX = 'arn:aws:elasticloadbalancing:us-east-1:123456789012'
const BLUE = `${PREFIX}:targetgroup/web-blue/0123456789abcdef`
const GREEN = `${PREFIX}:targetgroup/web-green/fedcba9876543210`
const LISTENER = `${PREFIX}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2`
const RULE = `${PREFIX}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`

const route = (kind: Route['kind'], arn: string, blue: number, green: number): Route => ({
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
const traffic = (...weights: Array<[number, number]>) =>
  readTrafficState(
    weights.map(([b, g], i) => (i === 0 ? route('listener', LISTENER, b, g) : route('rule', RULE, b, g)))
  )

describe('chooseIdleFleet', () => {
  it.each([
    ['blue live', [[100, 0]], { newFleet: GREEN, stableFleet: BLUE }],
    ['green live', [[0, 100]], { newFleet: BLUE, stableFleet: GREEN }],
    ['relative weights (999/0)', [[999, 0]], { newFleet: GREEN, stableFleet: BLUE }],
    [
      'routes that agree in percent, not in raw weights',
      [
        [100, 0],
        [1, 0]
      ],
      { newFleet: GREEN, stableFleet: BLUE }
    ]
  ] as Array<[string, Array<[number, number]>, object]>)('%s: deploys to the idle fleet', (_case, weights, fleets) => {
    expect(chooseIdleFleet(traffic(...weights))).toEqual(fleets)
  })

  it.each([
    [
      'a canary in progress',
      [[90, 10]],
      /^A canary is in progress \(web-blue 90 \/ web-green 10\); run promote to finish it or rollback to undo it, then deploy$/
    ],
    [
      '999/1: a sliver of traffic is still a canary',
      [[999, 1]],
      /^A canary is in progress \(web-blue 99 \/ web-green 1\)/
    ],
    [
      'routes that disagree',
      [
        [100, 0],
        [0, 100]
      ],
      /^The routes disagree \(web-blue 100 \/ web-green 0 vs web-blue 0 \/ web-green 100\); a deploy was interrupted: run rollback, then deploy$/
    ]
  ] as Array<[string, Array<[number, number]>, RegExp]>)(
    '%s: refuses, saying what to run',
    (_case, weights, message) => {
      const choosing = () => chooseIdleFleet(traffic(...weights))
      expect(choosing).toThrow(DeployError)
      expect(choosing).toThrow(message)
    }
  )
})
