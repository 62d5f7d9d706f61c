// What the action remembers about a fleet between runs (records/fleet-records.ts keeps it as tags
// on the fleet's target group): the shape alone, so that plans and the post-step state use it too.

/** A fleet's role: serving all traffic, the one before it, a canary in progress, or a failed deploy. */
export type RecordedRole = 'live' | 'previous' | 'canary' | 'failed' | 'deploying'

export interface FleetRecord {
  version?: string
  role?: RecordedRole
  deployedAt?: string
  deployedBy?: string
}
