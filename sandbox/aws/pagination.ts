// Opaque page tokens. AWS tokens are opaque strings the client must hand back unchanged; an
// offset wrapped in base64 keeps them opaque enough that a client cannot fabricate one by accident,
// and binding the operation catches a token passed to the wrong call.

import type { ApiError } from './errors.js'

export interface Page<T> {
  items: T[]
  next?: string
}

export function paginate<T>(
  operation: string,
  all: T[],
  token: string | undefined,
  pageSize: number,
  invalidToken: () => ApiError
): Page<T> {
  let offset = 0
  if (token !== undefined && token !== '') {
    const decoded = decodeToken(token)
    if (!decoded || decoded.op !== operation || decoded.offset > all.length) throw invalidToken()
    offset = decoded.offset
  }
  const items = all.slice(offset, offset + pageSize)
  const end = offset + items.length
  return end < all.length ? { items, next: encodeToken(operation, end) } : { items }
}

function encodeToken(op: string, offset: number): string {
  return Buffer.from(JSON.stringify({ op, offset }), 'utf8').toString('base64')
}

function decodeToken(token: string): { op: string; offset: number } | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'))
    if (
      parsed &&
      typeof parsed === 'object' &&
      typeof (parsed as { op?: unknown }).op === 'string' &&
      Number.isInteger((parsed as { offset?: unknown }).offset)
    ) {
      return parsed as { op: string; offset: number }
    }
  } catch {
    // fall through: malformed token
  }
  return undefined
}
