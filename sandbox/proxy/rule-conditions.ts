// How an ALB evaluates listener rule conditions against a request (ALB docs, "Condition types
// for listener rules"), as pure functions over the facts of the request:
//   path-pattern   the URL path without the query, case sensitive, `*` and `?` wildcards
//   host-header    the host name (port dropped), case insensitive, wildcards
//   http-header    header name case insensitive; each occurrence of a repeated header is tried
//                  in order; values case insensitive, wildcards
//   http-request-method  exact, case sensitive
//   query-string   key/value pairs (or values alone) of the query, case insensitive, wildcards,
//                  compared URL-encoded as the docs ask conditions to be written
//   source-ip      the peer address of the connection (not X-Forwarded-For), CIDR blocks
// A condition matches when any of its values matches; a rule when all its conditions match.

import type http from 'node:http'
import { BlockList, isIPv4 } from 'node:net'
import type { RuleCondition } from '../world.js'

export interface RequestFacts {
  method: string
  path: string
  /** The raw query string without '?', still URL-encoded. */
  query: string
  host: string
  /** Every header occurrence in arrival order (name as sent). */
  headers: Array<[string, string]>
  sourceIp: string
}

export function requestFacts(req: http.IncomingMessage): RequestFacts {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const headers: Array<[string, string]> = []
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]])
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    host: req.headers.host ?? '',
    headers,
    sourceIp: req.socket.remoteAddress ?? ''
  }
}

const cache = new Map<string, RegExp>()

/** `*` matches any run of characters (also none), `?` exactly one; everything else literally. */
export function wildcardMatches(pattern: string, text: string, caseInsensitive: boolean): boolean {
  const key = `${caseInsensitive ? 'i' : 's'}:${pattern}`
  let re = cache.get(key)
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[\\s\\S]*')
      .replace(/\?/g, '[\\s\\S]')
    re = new RegExp(`^${body}$`, caseInsensitive ? 'i' : '')
    if (cache.size > 1000) cache.clear()
    cache.set(key, re)
  }
  return re.test(text)
}

function queryPairs(query: string): Array<[string, string]> {
  if (query === '') return []
  return query.split('&').map((part) => {
    const i = part.indexOf('=')
    return i < 0 ? [part, ''] : [part.slice(0, i), part.slice(i + 1)]
  })
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/')
  const address = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip
  const family = isIPv4(net) ? 'ipv4' : 'ipv6'
  if ((family === 'ipv4') !== isIPv4(address)) return false
  const list = new BlockList()
  try {
    list.addSubnet(net, Number(bits), family)
    return list.check(address, family)
  } catch {
    return false
  }
}

export function conditionMatches(c: RuleCondition, r: RequestFacts): boolean {
  switch (c.Field) {
    case 'path-pattern':
      return (c.PathPatternConfig?.Values ?? c.Values ?? []).some((v) => wildcardMatches(v, r.path, false))
    case 'host-header': {
      const host = r.host.replace(/:\d+$/, '')
      return (c.HostHeaderConfig?.Values ?? c.Values ?? []).some((v) => wildcardMatches(v, host, true))
    }
    case 'http-header': {
      const name = (c.HttpHeaderConfig?.HttpHeaderName ?? '').toLowerCase()
      const values = c.HttpHeaderConfig?.Values ?? []
      return r.headers.some(
        ([n, value]) => n.toLowerCase() === name && values.some((v) => wildcardMatches(v, value, true))
      )
    }
    case 'http-request-method':
      return (c.HttpRequestMethodConfig?.Values ?? []).includes(r.method)
    case 'query-string': {
      const pairs = queryPairs(r.query)
      return (c.QueryStringConfig?.Values ?? []).some((want) =>
        pairs.some(
          ([k, v]) =>
            (want.Key === undefined || wildcardMatches(want.Key, k, true)) && wildcardMatches(want.Value, v, true)
        )
      )
    }
    case 'source-ip':
      return (c.SourceIpConfig?.Values ?? []).some((cidr) => inCidr(r.sourceIp, cidr))
    default:
      return false
  }
}

/** A rule applies when every one of its conditions matches (and it has at least one). */
export function ruleMatches(conditions: RuleCondition[], r: RequestFacts): boolean {
  return conditions.length > 0 && conditions.every((c) => conditionMatches(c, r))
}
