// What the action remembers between runs lives on AWS, as tags on the pair's target groups, so a
// promote in a later (approved) job or a `status` from a laptop sees the same facts as the deploy.

import type { FleetRecord, RecordedRole } from '../plan/fleet-record.js'

export type { FleetRecord, RecordedRole }

export const TAG = {
  version: 'bluegreen:version',
  role: 'bluegreen:role',
  deployedAt: 'bluegreen:deployed-at',
  deployedBy: 'bluegreen:deployed-by'
} as const

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

function tagSafe(text: string): string {
  return text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '-').slice(0, 256)
}
