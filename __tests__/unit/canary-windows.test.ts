// When the judge looks and at what, and whether a step is long enough for the checks to see it.
import { describe, expect, it } from '@jest/globals'
import { analysisWindows, BASELINE_LOOKBACK_MS, dataDueAt, holdCovered } from '../../src/plan/canary-windows.js'
import { alarmSeesAfterMs, alarmTimingWarnings, watchWarnings } from '../../src/plan/check-timing.js'

const T0 = Date.UTC(2025, 10, 27, 12, 0, 0)
const s = (x: number) => T0 + x * 1000

describe('analysisWindows', () => {
  it("a canary step: both fleets over the same minutes, from the step's first to the one now is in", () => {
    const w = analysisWindows({ startedAt: s(70), weight: 10 }, s(70), s(200))
    expect(w.newFleet).toEqual({ start: s(60), end: s(240) })
    expect(w.stable).toEqual(w.newFleet)
    expect(w.stableFromBaseline).toBe(false)
  })

  it('at 100%: the stable fleet is judged on its traffic from before the first shift up to this step', () => {
    const w = analysisWindows({ startedAt: s(600), weight: 100 }, s(130), s(700))
    expect(w.newFleet).toEqual({ start: s(600), end: s(720) })
    expect(w.stable).toEqual({ start: s(120) - BASELINE_LOOKBACK_MS, end: s(660) })
    expect(w.stableFromBaseline).toBe(true)
  })

  it('all at once: the baseline is the minutes before the flip', () => {
    const w = analysisWindows({ startedAt: s(130), weight: 100 }, s(130), s(150))
    expect(w.stable).toEqual({ start: s(120) - BASELINE_LOOKBACK_MS, end: s(180) })
  })
})

describe('dataDueAt and holdCovered', () => {
  it.each([
    ['metrics-delay after the hold ends', s(310), 180_000, s(310) + 180_000],
    ['no delay: at once', s(301), 0, s(301)]
  ])('%s', (_name, holdEnd, delay, due) => {
    expect(dataDueAt(holdEnd, delay)).toBe(due)
  })

  it("covered once the minute holding the hold's last moment has arrived", () => {
    expect(holdCovered([s(240)], s(310))).toBe(false)
    expect(holdCovered([s(240), s(300)], s(310))).toBe(true)
    expect(holdCovered([s(240)], s(300))).toBe(true) // ends on the boundary: 12:04 is its last minute
    expect(holdCovered([], s(300))).toBe(false)
  })
})

describe('check timing warnings', () => {
  it('an alarm that cannot have evaluated a step is named, with what it needs', () => {
    expect(alarmTimingWarnings([{ name: 'web-5xx', periodS: 60, evaluationPeriods: 3 }], 60_000, 180_000)).toEqual([
      'alarm web-5xx needs about 6m (period 1m x 3 evaluation periods + metrics-delay 3m) to see a bad answer, longer than step-wait 1m: a step can end before this alarm has seen it; raise step-wait to 6m or more'
    ])
  })

  it('a step long enough for every alarm, or a composite alarm (timed by its children), gives no warning', () => {
    expect(
      alarmTimingWarnings([{ name: 'a', periodS: 60, evaluationPeriods: 2 }, { name: 'any' }], 600_000, 180_000)
    ).toEqual([])
    expect(alarmSeesAfterMs({ name: 'any' }, 180_000)).toBeUndefined()
  })

  it.each([
    [{ stepWaitMs: 60_000, analysis: false, alarms: 0 }, /^nothing watches the new fleet's answers/],
    [
      { stepWaitMs: 0, analysis: true, alarms: 1 },
      /^step-wait is 0: the canary judge cannot judge steps that are not held/
    ],
    [{ stepWaitMs: 60_000, analysis: true, alarms: 0 }, undefined],
    [{ stepWaitMs: 60_000, analysis: false, alarms: 2 }, undefined]
  ])('watchWarnings %j', (t, warning) => {
    const w = watchWarnings(t)
    if (warning) expect(w).toEqual([expect.stringMatching(warning)])
    else expect(w).toEqual([])
  })
})
