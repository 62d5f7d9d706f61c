/** The fleets a hold watches: the new one taking a share of traffic, the stable one beside it. */
export interface HoldSubject {
  newFleet: string
  stableFleet: string
  /** The new fleet's instances that took the deploy: each must stay registered and healthy. */
  instanceIds: string[]
}

/** One traffic step being held: where, at what weight, since when and for how long. */
export interface HoldWindow extends HoldSubject {
  /** 1-based step number; 0 for a look at a paused canary before it gets more traffic. */
  step: number
  /** Percent of traffic on the new fleet. */
  weight: number
  startedAt: number
  holdMs: number
  /** The operation's deadline: a check that waits for late evidence must give its word by then. */
  deadline?: number
}

/** What one look saw: a line for the timeline, and whether the step may go on. */
export interface CheckLook {
  ok: boolean
  /** In the user's words: "alarm web-5xx OK", "3/3 targets healthy", "alarm web-5xx in ALARM: …". */
  line: string
  /**
   * From `conclude` only: no word yet, keep the step held (every check still watching it) and ask
   * again, at the latest at this time. The canary judge uses it while CloudWatch's data is late.
   */
  holdUntil?: number
}

/**
 * One thing that tells a bad release from a good one. Every hold looks at every check in the list,
 * the plan describes the list, and checks with a gate also guard the moment before traffic moves:
 * a new kind of check is one file that implements this and one line in hold-checks.ts.
 */
export interface HoldCheck {
  name: string
  /** What the plan promises this check watches, a line per thing watched. */
  describe: string[]
  /** A look before any traffic moves; a failing gate stops the deploy with nothing changed. */
  gate?(): Promise<CheckLook>
  /** A look during a hold; a failed look ends the hold at once. */
  look(window: HoldWindow): Promise<CheckLook>
  /**
   * The last word at the end of a hold, for checks whose evidence arrives late: asked once the
   * hold's time is up, and again at every look while it answers with `holdUntil`.
   */
  conclude?(window: HoldWindow): Promise<CheckLook>
  /** What the plan should warn about this check's timing for steps held `stepWaitMs` (after the gate). */
  timingWarnings?(stepWaitMs: number): string[]
}
