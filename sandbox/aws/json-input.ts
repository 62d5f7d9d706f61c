// Typed reads from an AWS JSON protocol request body. A value of the wrong JSON type is what the
// real services reject as `SerializationException` before any validation runs.

import { ApiError } from './errors.js'

export type JsonObject = Record<string, unknown>

const wrongType = (member: string, expected: string): ApiError =>
  new ApiError('SerializationException', `Expected ${expected} for member ${member}`)

export function optString(body: JsonObject, member: string): string | undefined {
  const v = body[member]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw wrongType(member, 'string')
  return v
}

export function optNumber(body: JsonObject, member: string): number | undefined {
  const v = body[member]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number') throw wrongType(member, 'number')
  return v
}

export function optBool(body: JsonObject, member: string): boolean | undefined {
  const v = body[member]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw wrongType(member, 'boolean')
  return v
}

export function optStrings(body: JsonObject, member: string): string[] | undefined {
  const v = body[member]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw wrongType(member, 'list of strings')
  return v as string[]
}

export function optObjects(body: JsonObject, member: string): JsonObject[] | undefined {
  const v = body[member]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || v.some((x) => !x || typeof x !== 'object' || Array.isArray(x))) {
    throw wrongType(member, 'list of structures')
  }
  return v as JsonObject[]
}

export function optObject(body: JsonObject, member: string): JsonObject | undefined {
  const v = body[member]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(member, 'structure')
  return v as JsonObject
}

/** Epoch seconds with millisecond fraction: how AWS JSON protocols send timestamps. */
export const epochSeconds = (ms: number): number => ms / 1000
