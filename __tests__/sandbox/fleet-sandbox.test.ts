import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm'
import { existsSync } from 'node:fs'
import { startSandbox } from '../../sandbox/sandbox.js'
import { forwardWeights } from '../../sandbox/world.js'
import { until } from './fleet-helpers.js'

describe('startSandbox', () => {
  it('wires fleets, health checks, proxy, alarms and the AWS endpoint, and stop() closes everything', async () => {
    const sb = await startSandbox({ fleetSize: 2, healthIntervalMs: 50 })
    let stopped = false
    try {
      expect(sb.blueIds).toHaveLength(2)
      expect(forwardWeights(sb.world.listeners.get(sb.listenerArn)!.defaultActions)).toEqual({
        [sb.blueArn]: 100,
        [sb.greenArn]: 0
      })
      for (const arn of [sb.blueArn, sb.greenArn]) {
        expect([...sb.world.targetGroups.get(arn)!.targets.values()].every((t) => t.state === 'healthy')).toBe(true)
      }
      expect([...sb.world.alarms.keys()].sort()).toEqual(['web-5xx', 'web-blue-5xx', 'web-green-5xx'])
      const res = await fetch(sb.proxyUrl)
      expect(res.headers.get('x-app-version')).toBe('v1')

      // A deploy command through the emulated SSM API really runs on the instance.
      const ssm = new SSMClient({
        region: 'us-east-1',
        endpoint: sb.endpointUrl,
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' }
      })
      const target = sb.greenIds[0]
      const sent = await ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [target],
          Parameters: { commands: ['echo v2 > version && echo ok > behaviour && ./restart'] }
        })
      )
      const commandId = sent.Command!.CommandId!
      await until(
        () => sb.world.commands.get(commandId)?.invocations.get(target)?.status === 'Success',
        5000,
        'the command'
      )
      await until(() => sb.fleet.app(target)?.version === 'v2', 1000, 'the new version')
      const inv = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: target }))
      expect(inv.StandardOutputContent).toContain('restarted')
      expect(inv.StandardOutputContent).toContain('version=v2 behaviour=ok')
      ssm.destroy()

      const dir = sb.rootDir
      await sb.stop()
      stopped = true
      expect(existsSync(dir)).toBe(false)
      await expect(fetch(sb.proxyUrl)).rejects.toThrow()
      await expect(fetch(sb.endpointUrl)).rejects.toThrow()
    } finally {
      if (!stopped) await sb.stop()
    }
  })
})
