// The deploy's log reads as its phases: commands, health and each traffic step in a collapsible
// group, one after another (the runner's log cannot nest groups); poll-by-poll details at debug
// level; failures on their own error line outside any group.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { parseConfig, type RawInputs } from '../../src/config/inputs.js'
import { deploy } from '../../src/operations/deploy.js'
import { blueLive, context, FakeAws, FakeClock, LISTENER } from '../__fixtures__/fake-aws.js'

let clock: FakeClock
let aws: FakeAws

beforeEach(() => {
  clock = new FakeClock()
  aws = new FakeAws(clock)
  blueLive(aws, 3)
})
afterEach(() => aws.reset())

const config = (extra: RawInputs = {}) =>
  parseConfig(
    {
      'listener-arns': LISTENER,
      commands: './deploy.sh v2',
      version: 'v2',
      'step-wait': '2m',
      alarms: 'web-5xx',
      ...extra
    },
    { region: 'us-east-1' }
  )

/** The log's group titles in order, each with the lines it held. */
function groups(lines: string[]): Array<{ title: string; lines: string[] }> {
  const out: Array<{ title: string; lines: string[] }> = []
  let current: { title: string; lines: string[] } | undefined
  for (const line of lines) {
    if (line.startsWith('group: ')) out.push((current = { title: line.slice(7), lines: [] }))
    else if (line === 'endgroup') current = undefined
    else current?.lines.push(line)
  }
  return out
}

describe('the deploy log', () => {
  it('a canary: commands, health, then one group per step, with poll details at debug level', async () => {
    const ctx = context(clock)
    aws.command = () => ({ status: 'Success', exitCode: 0, takesMs: 5000 })
    const report = await deploy(config({ strategy: 'canary', 'canary-steps': '10,50,100' }), ctx)

    expect(report.result).toBe('succeeded')
    const phases = groups(ctx.log.lines)
    expect(phases.map((g) => g.title.replace(/\(.*?\)|held for .*/g, '').trim())).toEqual([
      'Commands on web-green',
      'Health of web-green: every target healthy on the new code',
      'Step 1: web-green 10 / web-blue 90,',
      'Step 2: web-green 50 / web-blue 50,',
      'Step 3: web-green 100 / web-blue 0,'
    ])
    const [commands, health, ...steps] = phases
    expect(commands.lines.some((l) => /^debug: poll: 1 call\(s\) about 1 command/.test(l))).toBe(true)
    expect(commands.lines).toContain('info: 3/3 done, 0 failed')
    expect(health.lines.some((l) => /^debug: poll: i-\w+ healthy/.test(l))).toBe(true)
    for (const step of steps) expect(step.lines.some((l) => /^debug: look \d+ at \d+%: /.test(l))).toBe(true)
    // What each hold saw stays visible outside the groups.
    expect(ctx.log.lines.filter((l) => /^info: Step \d held: /.test(l))).toHaveLength(3)
  })

  it('a failing step: its error line is outside every group, and the restore is said plainly', async () => {
    const ctx = context(clock)
    // The alarm fires once the second step has started.
    aws.alarm = () => (ctx.log.lines.some((l) => l.startsWith('group: Step 2')) ? 'ALARM' : 'OK')
    const report = await deploy(config({ strategy: 'canary', 'canary-steps': '10,50,100' }), ctx)

    expect(report.result).toBe('rolled-back')
    const lines = ctx.log.lines
    const errorAt = lines.findIndex((l) => /^error: Step 2 \(50% on web-green\) failed: /.test(l))
    expect(errorAt).toBeGreaterThan(0)
    const lastGroupBefore = lines.slice(0, errorAt).findLastIndex((l) => l.startsWith('group: '))
    const lastEndBefore = lines.slice(0, errorAt).lastIndexOf('endgroup')
    expect(lastEndBefore).toBeGreaterThan(lastGroupBefore)
    expect(lines.slice(errorAt).some((l) => /Weights restored and verified/.test(l))).toBe(true)
  })
})
