// Who changed what, in which order: the call log names each call's access key (as CloudTrail
// does) and numbers calls in the order they took effect, and weight changes point back to the
// call that made them. The chaos soak (sandbox/chaos/) judges concurrent runs with these.
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { addListener, addTargetGroup, forwardAction } from '../../sandbox/aws/fixtures.js'
import { startHarness, type Harness } from './aws-helpers.js'

let h: Harness
const clients: ElasticLoadBalancingV2Client[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy()
  await h.close()
})

function clientAs(accessKeyId: string): ElasticLoadBalancingV2Client {
  const client = new ElasticLoadBalancingV2Client({
    region: 'us-east-1',
    endpoint: h.url,
    credentials: { accessKeyId, secretAccessKey: 's' },
    maxAttempts: 1
  })
  clients.push(client)
  return client
}

test('each call names its caller and its answer order; a weight change names the call that made it', async () => {
  h = await startHarness()
  const blue = addTargetGroup(h.world, { name: 'web-blue' })
  const green = addTargetGroup(h.world, { name: 'web-green' })
  const listener = addListener(h.world, { port: 48081, defaultActions: [forwardAction({ [blue]: 100, [green]: 0 })] })
  await clientAs('AKIARUNONE000000000A').send(new DescribeListenersCommand({ ListenerArns: [listener] }))
  await clientAs('AKIARUNTWO000000000B').send(
    new ModifyListenerCommand({
      ListenerArn: listener,
      DefaultActions: [forwardAction({ [blue]: 50, [green]: 50 })] as never
    })
  )
  expect(h.world.calls.map((c) => [c.operation, c.caller, c.seq])).toEqual([
    ['DescribeListeners', 'AKIARUNONE000000000A', 1],
    ['ModifyListener', 'AKIARUNTWO000000000B', 2]
  ])
  expect(h.world.weightChanges).toEqual([
    expect.objectContaining({
      routeArn: listener,
      weights: { [blue]: 50, [green]: 50 },
      caller: 'AKIARUNTWO000000000B',
      seq: 2
    })
  ])
})

test("a caller's own latency slows only that caller's calls", async () => {
  h = await startHarness()
  const blue = addTargetGroup(h.world, { name: 'web-blue' })
  const green = addTargetGroup(h.world, { name: 'web-green' })
  const listener = addListener(h.world, { port: 48082, defaultActions: [forwardAction({ [blue]: 100, [green]: 0 })] })
  h.world.apiFaults.callerLatencyMs = { AKIASLOWCALLER00000S: 300 }
  const timed = async (key: string) => {
    const started = Date.now()
    await clientAs(key).send(new DescribeListenersCommand({ ListenerArns: [listener] }))
    return Date.now() - started
  }
  expect(await timed('AKIASLOWCALLER00000S')).toBeGreaterThanOrEqual(300)
  expect(await timed('AKIAFASTCALLER00000F')).toBeLessThan(300)
})
