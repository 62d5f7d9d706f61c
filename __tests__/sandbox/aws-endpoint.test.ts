import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch'
import { DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm'
import { addTargetGroup } from '../../sandbox/aws/fixtures.js'
import { clientConfig, rejection, startHarness, type Harness } from './aws-helpers.js'

let h: Harness

afterEach(async () => {
  await h.close()
})

describe('emulated AWS endpoint: faults, call log, wire details', () => {
  test('every call is recorded with its operation, params, status and error code', async () => {
    h = await startHarness()
    const tg = addTargetGroup(h.world, { name: 'web-blue' })
    await h.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg] }))
    await rejection(h.ssm.send(new ListCommandsCommand({ CommandId: '00000000-0000-0000-0000-000000000000' })))
    await h.cw.send(new DescribeAlarmsCommand({ AlarmNames: ['x'] }))
    expect(h.world.calls.map((c) => [c.service, c.operation, c.status, c.errorCode])).toEqual([
      ['elbv2', 'DescribeTargetGroups', 200, undefined],
      ['ssm', 'ListCommands', 400, 'InvalidCommandId'],
      ['cloudwatch', 'DescribeAlarms', 200, undefined]
    ])
    expect(h.world.calls[0].params).toEqual({ TargetGroupArns: [tg] })
    expect(h.world.calls[2].params).toEqual({ AlarmNames: ['x'] })
  })

  test('throttled calls are retried by the SDK (standard mode) and then succeed', async () => {
    h = await startHarness({ seed: 7 })
    h.world.apiFaults.throttleShare = 0.5
    const elb = new ElasticLoadBalancingV2Client(clientConfig(h.url, 10))
    const ssm = new SSMClient(clientConfig(h.url, 10))
    try {
      for (let i = 0; i < 4; i++) {
        await elb.send(new DescribeTargetGroupsCommand({}))
        await ssm.send(new ListCommandsCommand({}))
      }
    } finally {
      elb.destroy()
      ssm.destroy()
    }
    const throttled = h.world.calls.filter((c) => c.errorCode !== undefined)
    expect(throttled.length).toBeGreaterThan(0)
    expect(throttled.some((c) => c.service === 'elbv2')).toBe(true)
    expect(throttled.some((c) => c.service === 'ssm')).toBe(true)
    for (const c of throttled) {
      expect(c.status).toBe(400)
      expect(c.errorCode).toBe(c.service === 'ssm' ? 'ThrottlingException' : 'Throttling')
    }
    expect(h.world.calls.filter((c) => c.status === 200)).toHaveLength(8)
  }, 30_000)

  test('with retries exhausted the SDK raises the throttling error of each service', async () => {
    h = await startHarness()
    h.world.apiFaults.throttleShare = 1
    const ssm = await rejection(h.ssm.send(new ListCommandsCommand({})))
    expect(ssm.name).toBe('ThrottlingException')
    const elb = await rejection(h.elb.send(new DescribeTargetGroupsCommand({})))
    expect(elb.name).toBe('Throttling')
    const cw = await rejection(h.cw.send(new DescribeAlarmsCommand({})))
    expect(cw.name).toBe('Throttling')
    expect(h.world.calls).toHaveLength(3)
  })

  test('the SDK retries a throttled call up to maxAttempts', async () => {
    h = await startHarness()
    h.world.apiFaults.throttleShare = 1
    const ssm = new SSMClient(clientConfig(h.url, 2))
    try {
      const err = await rejection(ssm.send(new ListCommandsCommand({})))
      expect(err.name).toBe('ThrottlingException')
      expect(err.$metadata?.attempts).toBe(2)
    } finally {
      ssm.destroy()
    }
    expect(h.world.calls).toHaveLength(2)
    // Each request is logged with the SDK's attempt number, so retries can be counted.
    expect(h.world.calls.map((c) => c.attempt)).toEqual([1, 2])
  }, 30_000)

  test('dropped connections surface as network errors the SDK retries, and are logged', async () => {
    h = await startHarness()
    h.world.apiFaults.dropShare = 1
    const elb = new ElasticLoadBalancingV2Client(clientConfig(h.url, 3))
    try {
      const err = await rejection(elb.send(new DescribeTargetGroupsCommand({})))
      expect(err.message).toMatch(/socket hang up/)
      expect(err.$metadata?.attempts).toBe(3)
    } finally {
      elb.destroy()
    }
    expect(h.world.calls).toHaveLength(3)
    expect(h.world.calls[0]).toMatchObject({
      operation: 'DescribeTargetGroups',
      status: 0,
      errorCode: 'ConnectionDropped'
    })
  }, 30_000)

  test('latency is added to every call', async () => {
    h = await startHarness()
    h.world.apiFaults.latencyMs = 150
    const t0 = Date.now()
    await h.cw.send(new DescribeAlarmsCommand({}))
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)
  })

  test('fault choice is deterministic for a seed', async () => {
    const pattern = async (seed: number): Promise<boolean[]> => {
      h = await startHarness({ seed })
      h.world.apiFaults.throttleShare = 0.5
      for (let i = 0; i < 10; i++) await h.cw.send(new DescribeAlarmsCommand({})).catch(() => undefined)
      const result = h.world.calls.map((c) => c.status === 200)
      await h.close()
      return result
    }
    const a = await pattern(3)
    const b = await pattern(3)
    expect(a).toEqual(b)
    expect(a.some((ok) => !ok) && a.some((ok) => ok)).toBe(true)
    h = await startHarness()
  })

  test('ELBv2 answers in the Query XML envelope; unknown actions are InvalidAction', async () => {
    h = await startHarness()
    const post = (body: string) =>
      fetch(h.url + '/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    const ok = await post('Action=DescribeTargetGroups&Version=2015-12-01')
    const text = await ok.text()
    expect(ok.status).toBe(200)
    expect(text).toMatch(
      /^<DescribeTargetGroupsResponse xmlns="http:\/\/elasticloadbalancing\.amazonaws\.com\/doc\/2015-12-01\/"><DescribeTargetGroupsResult>/
    )
    expect(text).toMatch(/<ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata>/)
    const bad = await post('Action=DeleteEverything&Version=2015-12-01')
    expect(bad.status).toBe(400)
    expect(await bad.text()).toMatch(/<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code>/)
  })

  test('JSON services answer unknown operations with UnknownOperationException', async () => {
    h = await startHarness()
    const res = await fetch(h.url + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.DeleteEverything' },
      body: '{}'
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ __type: 'UnknownOperationException' })
    expect(h.world.calls[0]).toMatchObject({
      service: 'ssm',
      operation: 'DeleteEverything',
      errorCode: 'UnknownOperationException'
    })
  })

  test('XML special characters in values survive the round trip', async () => {
    h = await startHarness()
    const tg = addTargetGroup(h.world, { name: 'web', healthCheck: { path: '/health?a=1&b=<2>' } })
    const out = await h.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg] }))
    expect(out.TargetGroups![0].HealthCheckPath).toBe('/health?a=1&b=<2>')
  })
})
