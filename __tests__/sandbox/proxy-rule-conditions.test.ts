import http from 'node:http'
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  ElasticLoadBalancingV2Client
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { startAwsEndpoint, type AwsEndpoint } from '../../sandbox/aws/server.js'
import { LoadBalancer } from '../../sandbox/proxy/load-balancer.js'
import {
  conditionMatches,
  ruleMatches,
  wildcardMatches,
  type RequestFacts
} from '../../sandbox/proxy/rule-conditions.js'
import type { RuleCondition } from '../../sandbox/world.js'
import { FakeExecutor, clientConfig } from './aws-helpers.js'
import { addPair, startFleet, type FleetHarness } from './fleet-helpers.js'

const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path: '/',
  query: '',
  host: 'www.example.com:8080',
  headers: [],
  sourceIp: '127.0.0.1',
  ...over
})
const header = (name: string, ...values: string[]): RuleCondition => ({
  Field: 'http-header',
  HttpHeaderConfig: { HttpHeaderName: name, Values: values }
})

describe('rule conditions (pure)', () => {
  test('wildcards: * any run (also empty), ? exactly one, the rest literal', () => {
    expect(wildcardMatches('v2*', 'v2', false)).toBe(true)
    expect(wildcardMatches('v2*', 'v2-abc', false)).toBe(true)
    expect(wildcardMatches('v?', 'v12', false)).toBe(false)
    expect(wildcardMatches('v?', 'v1', false)).toBe(true)
    expect(wildcardMatches('a.b', 'axb', false)).toBe(false)
    expect(wildcardMatches('(x)+[y]', '(x)+[y]', false)).toBe(true)
    expect(wildcardMatches('ABC', 'abc', false)).toBe(false)
    expect(wildcardMatches('ABC', 'abc', true)).toBe(true)
  })

  test('http-header: name and value case insensitive, each occurrence of a repeated header tried', () => {
    const c = header('X-Preview', 'v2*')
    expect(conditionMatches(c, facts({ headers: [['x-preview', 'V2-rc1']] }))).toBe(true)
    expect(conditionMatches(c, facts({ headers: [['X-PREVIEW', 'v2']] }))).toBe(true)
    expect(conditionMatches(c, facts({ headers: [['X-Preview', 'v1']] }))).toBe(false)
    expect(
      conditionMatches(
        c,
        facts({
          headers: [
            ['X-Preview', 'nope'],
            ['X-Preview', 'v2']
          ]
        })
      )
    ).toBe(true)
    expect(conditionMatches(c, facts({ headers: [['X-Other', 'v2']] }))).toBe(false)
    expect(conditionMatches(c, facts())).toBe(false)
    // Any of several values.
    expect(
      conditionMatches(
        header('User-Agent', '*Chrome*', '*Safari*'),
        facts({ headers: [['user-agent', 'Mozilla Safari/1']] })
      )
    ).toBe(true)
  })

  test('path (case sensitive, no query), host (case insensitive, no port), method, query string, source ip', () => {
    const path: RuleCondition = { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }
    expect(conditionMatches(path, facts({ path: '/api/users' }))).toBe(true)
    expect(conditionMatches(path, facts({ path: '/API/users' }))).toBe(false)
    const host: RuleCondition = { Field: 'host-header', Values: ['*.EXAMPLE.com'] }
    expect(conditionMatches(host, facts())).toBe(true)
    expect(conditionMatches(host, facts({ host: 'example.com' }))).toBe(false)
    const method: RuleCondition = { Field: 'http-request-method', HttpRequestMethodConfig: { Values: ['POST'] } }
    expect(conditionMatches(method, facts({ method: 'POST' }))).toBe(true)
    expect(conditionMatches(method, facts({ method: 'post' }))).toBe(false)
    const query: RuleCondition = {
      Field: 'query-string',
      QueryStringConfig: { Values: [{ Key: 'Preview', Value: 'on*' }, { Value: 'beta' }] }
    }
    expect(conditionMatches(query, facts({ query: 'a=1&preview=ONE' }))).toBe(true)
    expect(conditionMatches(query, facts({ query: 'x=beta' }))).toBe(true)
    expect(conditionMatches(query, facts({ query: 'preview=off' }))).toBe(false)
    const source: RuleCondition = { Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8', '127.0.0.0/8'] } }
    expect(conditionMatches(source, facts({ sourceIp: '::ffff:127.0.0.1' }))).toBe(true)
    expect(conditionMatches(source, facts({ sourceIp: '192.168.1.1' }))).toBe(false)
    expect(
      conditionMatches(
        { Field: 'source-ip', SourceIpConfig: { Values: ['2001:db8::/32'] } },
        facts({ sourceIp: '2001:db8::1' })
      )
    ).toBe(true)
    // A rule needs all its conditions.
    expect(
      ruleMatches([path, header('X-Preview', 'v2')], facts({ path: '/api/x', headers: [['x-preview', 'v2']] }))
    ).toBe(true)
    expect(ruleMatches([path, header('X-Preview', 'v2')], facts({ path: '/api/x' }))).toBe(false)
    expect(ruleMatches([], facts())).toBe(false)
  })
})

describe('the proxy routes on rules created through the API', () => {
  let h: FleetHarness
  let endpoint: AwsEndpoint
  let elb: ElasticLoadBalancingV2Client
  let lb: LoadBalancer
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })

  beforeEach(async () => {
    h = await startFleet()
    endpoint = await startAwsEndpoint(h.world, new FakeExecutor())
    elb = new ElasticLoadBalancingV2Client(clientConfig(endpoint.url))
    lb = new LoadBalancer(h.world)
  })
  afterEach(async () => {
    elb.destroy()
    await lb.stop()
    await endpoint.close()
    await h.close()
  })
  afterAll(() => agent.destroy())

  function get(url: string, rawHeaders: string[] = []): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = {}
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const prev = headers[rawHeaders[i]]
        headers[rawHeaders[i]] =
          prev === undefined ? rawHeaders[i + 1] : ([] as string[]).concat(prev, rawHeaders[i + 1])
      }
      http
        .get(url, { agent, headers }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.headers['x-app-version'] as string | undefined))
        })
        .on('error', reject)
    })
  }

  test('a request with the preview header reaches only the group the header rule forwards to, while weights are 100/0', async () => {
    const blue = await h.add([{ version: 'v1' }, { version: 'v1' }])
    const green = await h.add([{ version: 'v2' }])
    const p = addPair(
      h.world,
      blue.map((i) => i.id),
      green.map((i) => i.id),
      [100, 0]
    )
    for (const arn of [p.blueArn, p.greenArn])
      for (const id of h.world.targetGroups.get(arn)!.targets.keys())
        h.world.targetGroups.get(arn)!.targets.set(id, { state: 'healthy' })
    await lb.start()
    const url = lb.url(p.listenerArn)

    const rule = (
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: p.listenerArn,
          Priority: 1,
          Conditions: [
            { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Preview-Version', Values: ['v2'] } }
          ],
          Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: p.greenArn, Weight: 1 }] } }]
        })
      )
    ).Rules![0].RuleArn!

    const withHeader = await Promise.all(Array.from({ length: 30 }, () => get(url, ['x-preview-version', 'V2'])))
    expect(new Set(withHeader)).toEqual(new Set(['v2']))
    const repeated = await get(url, ['X-Preview-Version', 'v1', 'X-Preview-Version', 'v2'])
    expect(repeated).toBe('v2')
    const without = await Promise.all(Array.from({ length: 30 }, () => get(url)))
    expect(new Set(without)).toEqual(new Set(['v1']))
    const wrongValue = await Promise.all(Array.from({ length: 10 }, () => get(url, ['X-Preview-Version', 'v3'])))
    expect(new Set(wrongValue)).toEqual(new Set(['v1']))
    // The proxy's records name the rule that routed each request.
    const viaRule = lb.records.filter((r) => r.ruleArn === rule)
    expect(viaRule).toHaveLength(31)
    expect(viaRule.every((r) => r.targetGroupArn === p.greenArn)).toBe(true)
    expect(lb.records.filter((r) => r.ruleArn === undefined).every((r) => r.targetGroupArn === p.blueArn)).toBe(true)

    // Deleting the rule takes effect on the next request.
    await elb.send(new DeleteRuleCommand({ RuleArn: rule }))
    expect(await get(url, ['X-Preview-Version', 'v2'])).toBe('v1')
  })
})
