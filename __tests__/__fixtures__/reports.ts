// Reports as operations produce them, for the summary renderer's tests and the sandbox's
// terminal renderer: a canary that succeeded, a failure whose instance output is hostile, a dry
// run, and a fleet large enough to hit the summary's size limit.
import type { InstanceCommandResult } from '../../src/fleet/run-commands.js'
import type { RunReport } from '../../src/report/report.js'

export const tg = (name: string, id: string) =>
  `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${name}/${id}`
export const BLUE = tg('web-blue', '0123456789abcdef')
export const GREEN = tg('web-green', 'fedcba9876543210')
export const LISTENER =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2'
export const T0 = Date.UTC(2025, 4, 1, 12, 0, 0)
export const MIN = 60_000
export const CONSOLE_URL = 'https://eu-west-1.console.aws.amazon.com/systems-manager/run-command/cmd-1'
export const LOG_URL =
  'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/deploy'
export const RUN_URL = 'https://github.com/acme/web/actions/runs/42'

export const EVIL = [
  'step 3 | pipes | here',
  '<script>alert(1)</script>',
  '[link](http://x) **bold** @octocat',
  '```',
  'fence',
  '```',
  'see http://evil.example and www.evil.example',
  '# not a heading ![img](http://x/i.png) ~~gone~~ <img src=x onerror=alert(1)>'
].join('\n')

export function canarySuccess(): RunReport {
  return {
    operation: 'deploy',
    dryRun: false,
    result: 'succeeded',
    headline: 'web-green is live with v1.5.0; web-blue is kept as the previous fleet.',
    startedAt: T0,
    finishedAt: T0 + 18 * MIN,
    version: 'v1.5.0',
    runUrl: RUN_URL,
    fleets: [
      {
        targetGroupArn: BLUE,
        name: 'web-blue',
        roleBefore: 'live',
        roleAfter: 'previous',
        versionBefore: 'v1.4.2',
        versionAfter: 'v1.4.2',
        weightBefore: 100,
        weightAfter: 0,
        instances: [
          { id: 'i-0aaa', state: 'healthy' },
          { id: 'i-0bbb', state: 'healthy' }
        ]
      },
      {
        targetGroupArn: GREEN,
        name: 'web-green',
        roleBefore: 'idle',
        roleAfter: 'live',
        versionBefore: 'v1.4.1',
        versionAfter: 'v1.5.0',
        weightBefore: 0,
        weightAfter: 100,
        instances: [
          { id: 'i-0ccc', state: 'healthy' },
          { id: 'i-0ddd', state: 'healthy' }
        ]
      }
    ],
    routes: [
      {
        arn: LISTENER,
        label: 'web listener f2f7dc8e',
        before: { [BLUE]: 100, [GREEN]: 0 },
        after: { [GREEN]: 100, [BLUE]: 0 }
      }
    ],
    timeline: [
      {
        step: 1,
        weight: 10,
        startedAt: T0 + 3 * MIN,
        heldMs: 5 * MIN,
        outcome: 'held',
        checks: ['alarm web-5xx OK', '2/2 targets healthy']
      },
      { step: 2, weight: 50, startedAt: T0 + 8 * MIN, heldMs: 5 * MIN, outcome: 'held', checks: ['alarm web-5xx OK'] },
      { step: 3, weight: 100, startedAt: T0 + 13 * MIN, heldMs: 5 * MIN, outcome: 'held', checks: ['alarm web-5xx OK'] }
    ],
    commands: {
      commandIds: ['cmd-1'],
      documentName: 'AWS-RunShellScript',
      consoleUrl: CONSOLE_URL,
      logGroupUrl: LOG_URL,
      total: 2,
      succeeded: 2,
      failed: 0,
      instances: [
        {
          instanceId: 'i-0ccc',
          status: 'Success',
          exitCode: 0,
          durationMs: 42_000,
          outputTail: 'pulled v1.5.0\nrestarted'
        },
        {
          instanceId: 'i-0ddd',
          status: 'Success',
          exitCode: 0,
          durationMs: 40_000,
          outputTail: 'pulled v1.5.0\nrestarted'
        }
      ]
    },
    warnings: [],
    outputs: { live: GREEN, previous: BLUE, deployed: GREEN, commandId: 'cmd-1', weights: { [GREEN]: 100, [BLUE]: 0 } }
  }
}

export function failureWithEvilOutput(): RunReport {
  const report = canarySuccess()
  report.result = 'rolled-back'
  report.headline = `Commands failed on i-0ddd: ${EVIL}`
  report.fleets[1].roleAfter = 'failed'
  report.fleets[1].name = 'web-green | x'
  report.fleets[1].instances[1] = { id: 'i-0ddd', state: 'unhealthy', reason: 'Target.Failed', description: EVIL }
  report.timeline = [
    { step: 1, weight: 10, startedAt: T0 + 3 * MIN, heldMs: 95_000, outcome: 'failed', checks: [EVIL] },
    {
      step: 0,
      weight: 0,
      startedAt: T0 + 4 * MIN + 35_000,
      heldMs: 0,
      outcome: 'restored',
      checks: ['weights read back']
    }
  ]
  report.commands = {
    ...report.commands!,
    succeeded: 1,
    failed: 1,
    instances: [
      { instanceId: 'i-0ccc', status: 'Success', exitCode: 0, durationMs: 42_000, outputTail: 'ok' },
      { instanceId: 'i-0ddd', status: 'Failed', statusDetails: EVIL, exitCode: 1, durationMs: 1_000, outputTail: EVIL }
    ]
  }
  report.failure = { what: EVIL, at: T0 + 4 * MIN + 35_000, step: 1, weight: 10 }
  report.warnings = [EVIL]
  report.version = EVIL
  return report
}

export function dryRun(): RunReport {
  const report = canarySuccess()
  report.dryRun = true
  report.headline = 'Dry run: would deploy v1.5.0 to web-green and stop at 10% for a promote.'
  report.timeline = []
  report.commands = undefined
  report.routes[0].after = report.routes[0].before
  report.fleets.forEach((f) => {
    f.roleAfter = f.roleBefore
    f.versionAfter = f.versionBefore
    f.weightAfter = f.weightBefore
  })
  report.plan = {
    newFleet: 'web-green',
    oldFleet: 'web-blue',
    instanceIds: ['i-0ccc', 'i-0ddd'],
    steps: [
      { weight: 10, holdMs: 5 * MIN },
      { weight: 50, holdMs: 90_000 }
    ],
    restore: { [LISTENER]: { [BLUE]: 100, [GREEN]: 0 } },
    pauses: true,
    checks: ['alarm web-5xx', 'target health of web-green']
  }
  return report
}

export function bigFleet(instances: number, failed: number, outputBytes: number): RunReport {
  const report = canarySuccess()
  const line = 'x'.repeat(70) + ' | <b>&</b>\n'
  const output = line.repeat(Math.ceil(outputBytes / line.length))
  const step = Math.floor(instances / failed)
  const results: InstanceCommandResult[] = Array.from({ length: instances }, (_, i) => ({
    instanceId: `i-${i.toString(16).padStart(17, '0')}`,
    // Failed ones spread through the list, so that ordering matters.
    status: i % step === step - 1 && i < failed * step ? 'Failed' : 'Success',
    exitCode: 0,
    durationMs: 30_000,
    outputTail: output
  }))
  report.commands = {
    ...report.commands!,
    total: instances,
    succeeded: results.filter((r) => r.status === 'Success').length,
    failed: results.filter((r) => r.status !== 'Success').length,
    instances: results
  }
  report.fleets[1].instances = results.map((r) => ({
    id: r.instanceId,
    state: 'unhealthy',
    reason: 'Target.ResponseCodeMismatch',
    description: 'Health checks failed with these codes: [502]'
  }))
  return report
}

/** Each markdown table in the text, as its lines. */

/** A canary the judge passed at 10% and rolled back at 50% on the 5xx rate, mid-hold. */
export function canaryCaughtByAnalysis(): RunReport {
  const report = canarySuccess()
  const reason =
    '5xx rate 7.0% on the new fleet (154/2210) vs 0.55% on the stable one (12/2190): +6.42 points, over the tolerated +1 point, and significant (p=<1e-6 < 0.001)'
  return {
    ...report,
    result: 'rolled-back',
    headline: 'Deploy of v1.5.0 rolled back at step 2: canary analysis failed; web-blue has all traffic again.',
    timeline: [
      report.timeline[0],
      {
        step: 2,
        weight: 50,
        startedAt: T0 + 8 * MIN,
        heldMs: 3 * MIN,
        outcome: 'failed',
        checks: [`canary analysis: ${reason}`]
      },
      { step: 0, weight: 0, startedAt: T0 + 11 * MIN, heldMs: 0, outcome: 'restored', checks: ['weights read back'] }
    ],
    failure: { what: `canary analysis: ${reason}`, at: T0 + 11 * MIN, step: 2, weight: 50 },
    analysis: [
      {
        step: 1,
        weight: 10,
        at: T0 + 10 * MIN,
        verdict: 'pass',
        reason: '5xx rate 0.20% on the new fleet (3/1480) vs 0.19% on the stable one (25/13320), within +1 point',
        newFleet: {
          requests: 1480,
          errors: 3,
          target5xx: 3,
          connectionErrors: 0,
          latencyAvgMs: 21.4,
          latencyP99Ms: 80
        },
        stable: { requests: 13320, errors: 25, target5xx: 25, connectionErrors: 0, latencyAvgMs: 20, latencyP99Ms: 78 },
        stableFromBaseline: false,
        extended: false,
        early: false
      },
      {
        step: 2,
        weight: 50,
        at: T0 + 11 * MIN,
        verdict: 'fail',
        metric: 'error-rate',
        reason,
        newFleet: {
          requests: 2210,
          errors: 154,
          target5xx: 150,
          connectionErrors: 4,
          latencyAvgMs: 22,
          latencyP99Ms: 95
        },
        stable: { requests: 2190, errors: 12, target5xx: 12, connectionErrors: 0, latencyAvgMs: 20 },
        stableFromBaseline: false,
        extended: false,
        early: true
      }
    ]
  }
}
