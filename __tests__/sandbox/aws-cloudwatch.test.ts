import { DescribeAlarmsCommand, paginateDescribeAlarms } from '@aws-sdk/client-cloudwatch'
import { addAlarm } from '../../sandbox/aws/fixtures.js'
import { rejection, startHarness, type Harness } from './aws-helpers.js'

let h: Harness

beforeEach(async () => {
  h = await startHarness()
  addAlarm(h.world, { name: 'web-5xx', state: 'ALARM', reason: 'Threshold Crossed: 12 errors' })
  addAlarm(h.world, { name: 'web-p99-latency' })
  addAlarm(h.world, { name: 'web-any', type: 'CompositeAlarm', anyOf: ['web-5xx', 'web-p99-latency'], state: 'ALARM' })
})

afterEach(async () => {
  await h.close()
})

describe('CloudWatch DescribeAlarms', () => {
  test('without AlarmTypes only metric alarms are returned', async () => {
    const out = await h.cw.send(new DescribeAlarmsCommand({ AlarmNames: ['web-5xx', 'web-any'] }))
    expect(out.MetricAlarms!.map((a) => a.AlarmName)).toEqual(['web-5xx'])
    expect(out.CompositeAlarms ?? []).toEqual([])
    const a = out.MetricAlarms![0]
    expect(a.AlarmArn).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx')
    expect(a.StateValue).toBe('ALARM')
    expect(a.StateReason).toBe('Threshold Crossed: 12 errors')
    expect(a.StateUpdatedTimestamp).toBeInstanceOf(Date)
    expect(Math.abs(a.StateUpdatedTimestamp!.getTime() - Date.now())).toBeLessThan(5000)
  })

  test('AlarmTypes selects composite alarms too', async () => {
    const out = await h.cw.send(new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }))
    expect(out.MetricAlarms!.map((a) => a.AlarmName)).toEqual(['web-5xx', 'web-p99-latency'])
    expect(out.CompositeAlarms!.map((a) => [a.AlarmName, a.StateValue])).toEqual([['web-any', 'ALARM']])
    expect(out.CompositeAlarms![0].AlarmRule).toBe('ALARM("web-5xx") OR ALARM("web-p99-latency")')
  })

  test('prefix and state filters', async () => {
    const byPrefix = await h.cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'web-p' }))
    expect(byPrefix.MetricAlarms!.map((a) => a.AlarmName)).toEqual(['web-p99-latency'])
    const inAlarm = await h.cw.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }))
    expect(inAlarm.MetricAlarms!.map((a) => a.AlarmName)).toEqual(['web-5xx'])
    const both = await rejection(
      h.cw.send(new DescribeAlarmsCommand({ AlarmNames: ['web-5xx'], AlarmNamePrefix: 'web' }))
    )
    expect(both.name).toBe('InvalidParameterCombinationException')
  })

  test('AlarmNames up to 100, MaxRecords 1..100', async () => {
    const names = Array.from({ length: 101 }, (_, i) => `a${i}`)
    await h.cw.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(0, 100) }))
    const tooMany = await rejection(h.cw.send(new DescribeAlarmsCommand({ AlarmNames: names })))
    expect(tooMany.name).toBe('ValidationException')
    expect(tooMany.$metadata?.httpStatusCode).toBe(400)
    await h.cw.send(new DescribeAlarmsCommand({ MaxRecords: 100 }))
    for (const bad of [0, 101])
      expect((await rejection(h.cw.send(new DescribeAlarmsCommand({ MaxRecords: bad })))).name).toBe(
        'ValidationException'
      )
  })

  test('NextToken pagination', async () => {
    for (let i = 0; i < 4; i++) addAlarm(h.world, { name: `z-${i}` })
    const first = await h.cw.send(new DescribeAlarmsCommand({ MaxRecords: 4 }))
    expect(first.MetricAlarms).toHaveLength(4)
    expect(first.NextToken).toBeDefined()
    const names: string[] = []
    for await (const page of paginateDescribeAlarms({ client: h.cw, pageSize: 4 }, {})) {
      names.push(...(page.MetricAlarms ?? []).map((a) => a.AlarmName!))
    }
    expect(names).toEqual(['web-5xx', 'web-p99-latency', 'z-0', 'z-1', 'z-2', 'z-3'])
    expect((await rejection(h.cw.send(new DescribeAlarmsCommand({ NextToken: 'nope' })))).name).toBe('InvalidNextToken')
  })
})
