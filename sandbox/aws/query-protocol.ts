// AWS Query protocol (ELBv2): form-encoded requests in, XML documents out.
//
// Requests flatten nested shapes into dotted keys: lists as `Name.member.N`, maps as
// `Name.entry.N.key/value`, and an empty list as a bare `Name=`. Decoding is schema-less, so the
// handlers coerce leaf strings to numbers/booleans and treat `''` as an empty list.

import { XMLBuilder } from 'fast-xml-parser'
import type { ApiError } from './errors.js'

export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue }
export type QueryParams = { [key: string]: QueryValue }

export interface QueryRequest {
  action: string
  version: string
  params: QueryParams
}

export function decodeQuery(body: string): QueryRequest {
  const form = new URLSearchParams(body)
  const root: { [key: string]: Node } = {}
  let action = ''
  let version = ''
  for (const [key, value] of form) {
    if (key === 'Action') action = value
    else if (key === 'Version') version = value
    else setPath(root, key.split('.'), value)
  }
  return { action, version, params: finish(root) as QueryParams }
}

type Node = { [key: string]: Node | string } | string

function setPath(root: { [key: string]: Node }, segments: string[], value: string): void {
  // Lists are kept as objects keyed by index while decoding (members may arrive out of order)
  // and turned into arrays in finish().
  let node = root
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i]
    const existing = node[seg]
    if (existing === undefined || typeof existing === 'string') node[seg] = {}
    node = node[seg] as { [key: string]: Node }
  }
  node[segments[segments.length - 1]] = value
}

function finish(node: Node): QueryValue {
  if (typeof node === 'string') return node
  const keys = Object.keys(node)
  if (keys.length === 1 && (keys[0] === 'member' || keys[0] === 'entry') && typeof node[keys[0]] === 'object') {
    const indexed = node[keys[0]] as { [index: string]: Node }
    const ordered = Object.keys(indexed)
      .filter((k) => /^\d+$/.test(k))
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => finish(indexed[k]))
    if (keys[0] === 'member') return ordered
    const map: { [key: string]: QueryValue } = {}
    for (const entry of ordered) {
      if (entry && typeof entry === 'object' && !Array.isArray(entry) && typeof entry.key === 'string') {
        map[entry.key] = entry.value ?? ''
      }
    }
    return map
  }
  const out: { [key: string]: QueryValue } = {}
  for (const key of keys) out[key] = finish(node[key])
  return out
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
  processEntities: true
})

/** JS result object -> the node tree XMLBuilder expects; lists are wrapped in `<member>`. */
function toXmlNode(value: unknown): unknown {
  if (value === undefined || value === null) return undefined
  if (Array.isArray(value)) return value.length === 0 ? '' : { member: value.map(toXmlNode) }
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const node = toXmlNode(v)
      if (node !== undefined) out[k] = node
    }
    return out
  }
  return String(value)
}

export function encodeQueryResult(
  xmlns: string,
  action: string,
  result: Record<string, unknown>,
  requestId: string
): string {
  return builder.build({
    [`${action}Response`]: {
      '@_xmlns': xmlns,
      [`${action}Result`]: toXmlNode(result) ?? '',
      ResponseMetadata: { RequestId: requestId }
    }
  }) as string
}

export function encodeQueryError(xmlns: string, error: ApiError, requestId: string): string {
  return builder.build({
    ErrorResponse: {
      '@_xmlns': xmlns,
      Error: { Type: error.fault, Code: error.code, Message: error.message },
      RequestId: requestId
    }
  }) as string
}
