// End to end: a listener and one of its rules forwarding to the same pair move together, the way
// a service served on / and /api/* is deployed (and the only scenario that reads and writes a
// listener rule, which the IAM completeness test relies on).
import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { addRule, forwardAction } from '../../sandbox/aws/fixtures.js'
import { runAction } from '../../sandbox/run-action.js'
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js'
import { forwardWeights } from '../../sandbox/world.js'

jest.setTimeout(120_000)

let sandbox: Sandbox | undefined

afterEach(async () => {
  await sandbox?.stop()
  sandbox = undefined
})

describe('a listener and a rule given together', () => {
  it('shift together, and a rollback brings both back', async () => {
    const sb = (sandbox = await startSandbox({ healthIntervalMs: 300 }))
    const ruleArn = addRule(sb.world, {
      listenerArn: sb.listenerArn,
      priority: 10,
      actions: [forwardAction({ [sb.blueArn]: 100, [sb.greenArn]: 0 })]
    })
    const routes = { 'listener-arns': sb.listenerArn, 'rule-arns': ruleArn }
    const weightsNow = (): Array<Record<string, number>> => [
      forwardWeights(sb.world.listeners.get(sb.listenerArn)!.defaultActions),
      forwardWeights(sb.world.rules.get(ruleArn)!.actions)
    ]

    const deploy = await runAction({
      env: sb.env,
      // No steady load here: the canary judge would wait out metrics-delay for data that never comes.
      inputs: {
        ...routes,
        version: 'v2',
        'step-wait': '1s',
        'health-timeout': '60s',
        commands: 'echo v2 > version && ./restart',
        'canary-analysis': 'false'
      }
    })
    expect(deploy.outputs.result).toBe('succeeded')
    expect(weightsNow()).toEqual([
      { [sb.blueArn]: 0, [sb.greenArn]: 100 },
      { [sb.blueArn]: 0, [sb.greenArn]: 100 }
    ])
    expect(new Set(sb.world.weightChanges.map((c) => c.routeArn))).toEqual(new Set([sb.listenerArn, ruleArn]))

    const rollback = await runAction({ env: sb.env, inputs: { ...routes, operation: 'rollback' } })
    expect(rollback.outputs.result).toBe('rolled-back')
    expect(weightsNow()).toEqual([
      { [sb.blueArn]: 100, [sb.greenArn]: 0 },
      { [sb.blueArn]: 100, [sb.greenArn]: 0 }
    ])
  })
})
