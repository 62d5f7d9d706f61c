// The rules for running a document on a fleet through SSM, as plain data in and out.
import { describe, expect, it } from '@jest/globals'
import type { CommandInvocation } from '@aws-sdk/client-ssm'
import {
  allowedFailures,
  clipComment,
  commandComment,
  concurrencyFor,
  DEFAULT_POLL,
  elapsed,
  isFinal,
  listedDuration,
  nextPollInterval,
  outputTail,
  roundSpacing
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
    [500, 29_999, 500],
    [500, 30_000, 3000],
    [500, 40_000, 4000],
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
  ])('interval %i with %i unfinished commands: %i ms', (interval, unfinished, spacing) => {
    expect(roundSpacing(interval, unfinished)).toBe(spacing)
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
