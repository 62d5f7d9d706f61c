// The rules for running a document on a fleet through SSM, as plain data in and out.
import { describe, expect, it } from '@jest/globals'
import type { Command, CommandInvocation } from '@aws-sdk/client-ssm'
import {
  allowedFailures,
  clipComment,
  commandComment,
  commandLook,
  commandProgress,
  concurrencyFor,
  DEFAULT_POLL,
  elapsed,
  isCountedFailure,
  isFinal,
  listedDuration,
  nextPollInterval,
  outputTail,
  requestedWindow,
  roundSpacing,
  sentWindowFilters
} from '../../src/plan/command-policy.js'

describe('concurrencyFor', () => {
  it.each([
    // max-concurrency, instances in this command, fleet size, share
    ['10', 50, 120, '4'],
    ['10', 20, 120, '1'],
    ['100', 50, 50, '100'],
    ['5', 50, 1000, '1'],
    ['1', 1, 1, '1'],
    ['25%', 50, 120, '25%'],
    ['100%', 20, 120, '100%']
  ])('max-concurrency %s, %i of %i instances: %s', (max, batch, fleet, share) => {
    expect(concurrencyFor(max, batch, fleet)).toBe(share)
  })

  it('never lets the whole fleet run more than asked when each command gets at least one', () => {
    for (const [max, fleet] of [
      [10, 120],
      [37, 1000],
      [50, 51]
    ]) {
      const batches = Array.from({ length: Math.ceil(fleet / 50) }, (_, i) => Math.min(50, fleet - i * 50))
      const total = batches.reduce((sum, b) => sum + Number(concurrencyFor(String(max), b, fleet)), 0)
      expect(total).toBeLessThanOrEqual(Math.max(max, batches.length))
    }
  })
})

describe('allowedFailures', () => {
  it.each([
    ['0', 10, 0],
    ['3', 10, 3],
    ['10%', 10, 1],
    ['10%', 9, 0],
    ['25%', 10, 2],
    ['100%', 7, 7],
    ['0%', 100, 0]
  ])('max-errors %s of %i instances: %i', (maxErrors, fleet, allowed) => {
    expect(allowedFailures(maxErrors, fleet)).toBe(allowed)
  })
})

describe('nextPollInterval', () => {
  it.each([
    // interval, age, next
    [100, 0, 150],
    [150, 100, 225],
    [400, 5_000, 500],
    [500, 59_999, 500],
    [500, 60_000, 3000],
    [500, 80_000, 4000],
    [4000, 120_000, 5000],
    [5000, 3600_000, 5000]
  ])('after %i ms at %i ms old: %i ms', (interval, age, next) => {
    expect(nextPollInterval(DEFAULT_POLL, interval, age)).toBe(next)
  })
})

describe('roundSpacing', () => {
  it.each([
    [500, 1, 500],
    [500, 5, 500],
    [500, 20, 2000],
    [3000, 20, 3000]
  ])('interval %i after a round of %i calls: %i ms', (interval, calls, spacing) => {
    expect(roundSpacing(interval, calls)).toBe(spacing)
  })
})

describe('commandProgress', () => {
  const command = (over: Partial<Command>): Command => ({
    Status: 'Success',
    StatusDetails: 'Success',
    TargetCount: 50,
    CompletedCount: 50,
    ErrorCount: 0,
    DeliveryTimedOutCount: 0,
    ...over
  })

  it.each<[string, Partial<Command>, { final: boolean; failures: number; allSucceeded: boolean }]>([
    ['every target succeeded', {}, { final: true, failures: 0, allSucceeded: true }],
    [
      'still running',
      { Status: 'InProgress', StatusDetails: 'In Progress', CompletedCount: 20 },
      { final: false, failures: 0, allSucceeded: false }
    ],
    [
      'not started',
      { Status: 'Pending', StatusDetails: 'Pending', CompletedCount: 0 },
      { final: false, failures: 0, allSucceeded: false }
    ],
    [
      'being cancelled',
      { Status: 'Cancelling', CompletedCount: 10 },
      { final: false, failures: 0, allSucceeded: false }
    ],
    [
      'running with failures',
      { Status: 'InProgress', CompletedCount: 20, ErrorCount: 2 },
      { final: false, failures: 2, allSucceeded: false }
    ],
    [
      'failed',
      { Status: 'Failed', StatusDetails: 'Failed', ErrorCount: 3 },
      { final: true, failures: 3, allSucceeded: false }
    ],
    [
      'delivery timed out',
      { Status: 'TimedOut', StatusDetails: 'Delivery Timed Out', DeliveryTimedOutCount: 50 },
      { final: true, failures: 50, allSucceeded: false }
    ],
    // Success within MaxErrors, or with a cancelled invocation no counter shows: not all succeeded.
    ['Success but Incomplete', { StatusDetails: 'Incomplete' }, { final: true, failures: 0, allSucceeded: false }],
    ['Success with an error within MaxErrors', { ErrorCount: 1 }, { final: true, failures: 1, allSucceeded: false }],
    [
      'cancelled',
      { Status: 'Cancelled', StatusDetails: 'Cancelled', CompletedCount: 50 },
      { final: true, failures: 0, allSucceeded: false }
    ],
    [
      'Success with targets not all completed',
      { CompletedCount: 49 },
      { final: true, failures: 0, allSucceeded: false }
    ],
    ['Success of no target', { TargetCount: 0, CompletedCount: 0 }, { final: true, failures: 0, allSucceeded: false }]
  ])('%s', (_name, over, expected) => {
    expect(commandProgress(command(over))).toMatchObject(expected)
  })
})

describe('commandLook', () => {
  const progress = (over: Partial<ReturnType<typeof commandProgress>>) => ({
    final: false,
    targets: 50,
    completed: 10,
    failures: 0,
    allSucceeded: false,
    ...over
  })

  it('a command whose every target succeeded is done without a call', () => {
    expect(commandLook(progress({ final: true, completed: 50, allSucceeded: true }), 50, 0)).toBe('done')
  })

  it('a command that succeeded on another number of targets than sent is looked at', () => {
    expect(commandLook(progress({ final: true, completed: 49, targets: 49, allSucceeded: true }), 50, 0)).toBe(
      'list-invocations'
    )
  })

  it('a command that ended otherwise has its invocations listed, whatever was listed before', () => {
    expect(commandLook(progress({ final: true, completed: 50, failures: 1 }), 50, 1)).toBe('list-invocations')
  })

  it('a running command is listed only when its counts show failures not listed yet', () => {
    expect(commandLook(progress({ failures: 0 }), 50, 0)).toBe('wait')
    expect(commandLook(progress({ failures: 1 }), 50, 0)).toBe('list-invocations')
    expect(commandLook(progress({ failures: 1 }), 50, 1)).toBe('wait')
    expect(commandLook(progress({ failures: 3 }), 50, 1)).toBe('list-invocations')
  })
})

describe('isCountedFailure', () => {
  it.each([
    ['Failed', true],
    ['TimedOut', true],
    ['Cancelled', false],
    ['Success', false],
    ['InProgress', false]
  ])('%s: %s', (status, counted) => {
    expect(isCountedFailure({ Status: status } as CommandInvocation)).toBe(counted)
  })
})

describe('sentWindowFilters', () => {
  const t = Date.UTC(2026, 10, 30, 12, 0, 0)

  it("selects from a second before the first command to a second after the last, by SSM's clock", () => {
    const windows = [
      requestedWindow(new Date(t + 2000), 0),
      requestedWindow(new Date(t), 0),
      requestedWindow(new Date(t + 500), 0)
    ]
    expect(sentWindowFilters(windows)).toEqual([
      { key: 'InvokedAfter', value: '2026-11-30T11:59:59.000Z' },
      { key: 'InvokedBefore', value: '2026-11-30T12:00:03.000Z' }
    ])
  })

  it("widens to 5 minutes either side of the runner's clock when SSM gave no time", () => {
    expect(sentWindowFilters([requestedWindow(undefined, t)])).toEqual([
      { key: 'InvokedAfter', value: '2026-11-30T11:54:59.000Z' },
      { key: 'InvokedBefore', value: '2026-11-30T12:05:01.000Z' }
    ])
  })
})

describe('isFinal', () => {
  it.each([
    ['Pending', false],
    ['InProgress', false],
    ['Delayed', false],
    ['Cancelling', false],
    ['Success', true],
    ['Failed', true],
    ['TimedOut', true],
    ['Cancelled', true]
  ])('%s: %s', (status, final) => {
    expect(isFinal({ Status: status } as CommandInvocation)).toBe(final)
  })

  it('an invocation not listed yet is not final', () => {
    expect(isFinal(undefined)).toBe(false)
    expect(isFinal({})).toBe(false)
  })
})

describe('commandComment', () => {
  it('says which deploy and which workflow run', () => {
    expect(commandComment({ version: 'v1.4.2', repository: 'acme/web', runId: '9876543210' })).toBe(
      'deploy v1.4.2 from acme/web run 9876543210'
    )
    expect(commandComment({ version: 'a'.repeat(40), runId: '7' })).toBe(`deploy ${'a'.repeat(12)} run 7`)
  })

  it('keeps a short hex label and anything else as given', () => {
    expect(commandComment({ version: 'abcdef123456' })).toBe('deploy abcdef123456')
    expect(commandComment({ version: 'release-2026-11-27' })).toBe('deploy release-2026-11-27')
  })

  it('stays within 100 characters and keeps the run id when the parts are long', () => {
    const comment = commandComment({
      version: `release-${'x'.repeat(80)}`,
      repository: `acme/${'y'.repeat(90)}`,
      runId: '12345678901'
    })
    expect(comment.length).toBeLessThanOrEqual(100)
    expect(comment.endsWith(' run 12345678901')).toBe(true)
    expect(comment.startsWith('deploy release-x')).toBe(true)
  })

  it('clips a comment given whole to SSM’s 100 characters', () => {
    expect(clipComment('c'.repeat(150))).toBe('c'.repeat(100))
    expect(clipComment('short')).toBe('short')
  })
})

describe('outputTail', () => {
  it('joins stdout and stderr, trimmed, with a marker between them', () => {
    expect(outputTail('built\n\n', 'warning: x\n')).toBe('built\n--- stderr ---\nwarning: x')
    expect(outputTail('', 'only stderr\n')).toBe('only stderr')
    expect(outputTail('only stdout', '')).toBe('only stdout')
    expect(outputTail('', '')).toBe('')
  })

  it('keeps the last 40 lines', () => {
    const out = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n')
    const tail = outputTail(out, '').split('\n')
    expect(tail).toHaveLength(40)
    expect(tail[0]).toBe('line 60')
    expect(tail.at(-1)).toBe('line 99')
  })

  it('keeps the last 4 KB of very long lines', () => {
    const tail = outputTail(`${'a'.repeat(5000)}${'z'.repeat(10)}`, '')
    expect(tail).toHaveLength(4096)
    expect(tail.endsWith('z'.repeat(10))).toBe(true)
  })
})

describe('listedDuration', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s))

  it('spans from the first plugin start to the last plugin finish', () => {
    expect(
      listedDuration({
        CommandPlugins: [
          { ResponseStartDateTime: at(10), ResponseFinishDateTime: at(20) },
          { ResponseStartDateTime: at(5), ResponseFinishDateTime: at(42) }
        ]
      })
    ).toBe(37_000)
  })

  it('is unknown without start or finish times', () => {
    expect(listedDuration(undefined)).toBeUndefined()
    expect(listedDuration({ CommandPlugins: [] })).toBeUndefined()
    expect(listedDuration({ CommandPlugins: [{ ResponseStartDateTime: at(1) }] })).toBeUndefined()
  })

  it('is never negative', () => {
    expect(listedDuration({ CommandPlugins: [{ ResponseStartDateTime: at(9), ResponseFinishDateTime: at(3) }] })).toBe(
      0
    )
  })
})

describe('elapsed', () => {
  it.each([
    ['2026-01-01T12:00:00.000Z', '2026-01-01T12:00:42.500Z', 42_500],
    [undefined, '2026-01-01T12:00:00.000Z', undefined],
    ['2026-01-01T12:00:00.000Z', undefined, undefined],
    ['2026-01-01T12:00:10.000Z', '2026-01-01T12:00:00.000Z', undefined],
    ['not a date', '2026-01-01T12:00:00.000Z', undefined]
  ])('%s to %s: %s', (start, end, ms) => {
    expect(elapsed(start, end)).toBe(ms)
  })
})
