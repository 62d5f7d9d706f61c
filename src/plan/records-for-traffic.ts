import type { Route } from '../aws/elbv2.js'
import type { FleetRecord } from './fleet-record.js'
import type { Pair } from './forward-action.js'
import { readTrafficState } from './traffic-state.js'

/**
 * The records that say where traffic is, when someone else (a person in the console) moved it
 * during a run: the new fleet taken back to 0 held a canary that was stopped, so it is `failed`
 * (a rollback must not return to it); moved to all of it, it is `live` and the old one `previous`;
 * still split, the records stay canary and live. Routes that disagree change nothing: a rollback
 * sorts them out from the records as they are.
 */
export function recordsForTraffic(
  routes: Route[],
  pair: Pair,
  fleets: { newFleet: string; stableFleet: string; records: Record<string, FleetRecord> }
): Record<string, FleetRecord> {
  const { newFleet, stableFleet, records } = fleets
  let live: string | undefined
  let mixed = false
  try {
    const state = readTrafficState(routes, { blue: pair[0], green: pair[1] })
    if (!state.percent) return records
    live = state.live
    mixed = state.mixed
  } catch {
    return records
  }
  if (mixed || !live) return records
  if (live === stableFleet) {
    return {
      ...records,
      [newFleet]: { ...records[newFleet], role: 'failed' },
      [stableFleet]: { ...records[stableFleet], role: 'live' }
    }
  }
  return {
    ...records,
    [newFleet]: { ...records[newFleet], role: 'live' },
    [stableFleet]: { ...records[stableFleet], role: 'previous' }
  }
}
