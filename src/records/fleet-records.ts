// What the action remembers between runs lives on AWS, as tags on the pair's target groups, so a
// promote in a later (approved) job or a `status` from a laptop sees the same facts as the deploy.

export const TAG = {
  version: 'bluegreen:version',
  role: 'bluegreen:role',
  deployedAt: 'bluegreen:deployed-at',
  deployedBy: 'bluegreen:deployed-by',
  lock: 'bluegreen:lock'
} as const

/** A fleet's role: serving all traffic, the one before it, a canary in progress, or a failed deploy. */
export type RecordedRole = 'live' | 'previous' | 'canary' | 'failed' | 'deploying'

export interface FleetRecord {
  version?: string
  role?: RecordedRole
  deployedAt?: string
  deployedBy?: string
}

export function recordFromTags(tags: Record<string, string>): FleetRecord {
  const role = tags[TAG.role]
  return {
    version: tags[TAG.version],
    role: ['live', 'previous', 'canary', 'failed', 'deploying'].includes(role) ? (role as RecordedRole) : undefined,
    deployedAt: tags[TAG.deployedAt],
    deployedBy: tags[TAG.deployedBy]
  }
}

export function tagsFromRecord(record: FleetRecord): Record<string, string> {
  const tags: Record<string, string> = {}
  if (record.version !== undefined) tags[TAG.version] = record.version
  if (record.role !== undefined) tags[TAG.role] = record.role
  if (record.deployedAt !== undefined) tags[TAG.deployedAt] = record.deployedAt
  if (record.deployedBy !== undefined) tags[TAG.deployedBy] = tagSafe(record.deployedBy)
  return tags
}

/** Who holds the pair, until when. */
export interface Lock {
  id: string
  holder: string
  expiresAt: number
}

// Tag values allow letters, digits, spaces and _ . : / = + - @ only, so no JSON here.
export function encodeLock(lock: Lock): string {
  return `id=${lock.id} expires=${new Date(lock.expiresAt).toISOString()} holder=${tagSafe(lock.holder)}`.slice(0, 256)
}

export function decodeLock(value: string | undefined): Lock | undefined {
  if (!value) return undefined
  const match = /^id=(\S+) expires=(\S+) holder=(.*)$/.exec(value)
  if (!match) return undefined
  const expiresAt = Date.parse(match[2])
  return Number.isNaN(expiresAt) ? undefined : { id: match[1], expiresAt, holder: match[3] }
}

function tagSafe(text: string): string {
  return text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '-').slice(0, 256)
}
