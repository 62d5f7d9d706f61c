// The soak's judge, on hand-made recordings: each invariant catches the failure it is about and
// lets through what correct runs, people and faults do.
import type { Episode } from '../../sandbox/chaos/episode.js'
import {
  checkInvariants,
  exclusive,
  hiddenTraffic,
  lockFree,
  lossless,
  type Observed,
  recordsMatch,
  refusedBeforeChange,
  reportedWeights,
  routesAgree,
  type RunRecord,
  undoneServed
} from '../../sandbox/chaos/invariants.js'
import type { ProxyRecord } from '../../sandbox/proxy/load-balancer.js'
import type { ApiCall, WeightChange } from '../../sandbox/world.js'

const BLUE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1'
const GREEN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2'
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/1'
const RULE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/1/9'
const T0 = 1_000_000

function episode(
  over: Partial<Episode['start']> = {},
  operation: Episode['primary']['operation'] = 'deploy',
  faults: Episode['faults'] = []
): Episode {
  return {
    seed: 7,
    start: {
      kind: 'stable',
      live: 'blue',
      canaryPercent: 0,
      withRule: false,
      liveVersion: 's7-live',
      otherVersion: 's7-prev',
      otherRole: 'previous',
      otherBehaviour: 'ok',
      ...over
    },
    primary: { operation, inputs: { version: 's7-new' }, routes: ['listener'] },
    stepWaitMs: 1000,
    finalPercent: 100,
    faults
  }
}

function observed(over: Partial<Observed> = {}): Observed {
  return {
    episode: episode(),
    arns: { blue: BLUE, green: GREEN, listener: LISTENER },
    routesAtStart: { [LISTENER]: { [BLUE]: 100, [GREEN]: 0 } },
    startedAt: T0,
    endedAt: T0 + 10_000,
    runs: [run('primary', 'deploy')],
    consoleCaller: 'CONSOLE',
    calls: [],
    weightChanges: [],
    proxy: [],
    clientErrors: [],
    versions: [{ at: T0, byFleet: { [BLUE]: ['s7-live', 's7-live'], [GREEN]: ['s7-prev', 's7-prev'] } }],
    final: {
      routes: { [LISTENER]: { [BLUE]: 100, [GREEN]: 0 } },
      tags: {
        [BLUE]: { 'bluegreen:role': 'live', 'bluegreen:version': 's7-live' },
        [GREEN]: { 'bluegreen:role': 'previous', 'bluegreen:version': 's7-prev' }
      },
      locks: [],
      instanceVersions: { [BLUE]: ['s7-live', 's7-live'], [GREEN]: ['s7-prev', 's7-prev'] }
    },
    ...over
  }
}

function run(label: string, operation: RunRecord['operation'], over: Partial<RunRecord> = {}): RunRecord {
  return {
    label,
    caller: label.toUpperCase(),
    operation,
    post: label.startsWith('post-'),
    startedAt: T0,
    endedAt: T0 + 5000,
    exitCode: 0,
    signal: null,
    outputs: {},
    alerts: [],
    ...over
  }
}

let seq = 0
function call(caller: string, operation: string, at: number, params: unknown = {}): ApiCall {
  return { at, answeredAt: at, service: 'elbv2', operation, params, status: 200, caller, seq: ++seq }
}

function change(caller: string, at: number, blue: number, green: number, route = LISTENER): WeightChange {
  return { at, routeArn: route, weights: { [BLUE]: blue, [GREEN]: green }, caller, seq: ++seq }
}

function served(at: number, tg: string, version: string, over: Partial<ProxyRecord> = {}): ProxyRecord {
  return { at, durationMs: 1, listenerArn: LISTENER, targetGroupArn: tg, version, status: 200, ...over }
}

describe('undone-served', () => {
  it('flags the new version answering after a restore took all traffic off it, not before', () => {
    const o = observed({
      weightChanges: [
        change('PRIMARY', T0 + 1000, 90, 10),
        change('ROLLBACK', T0 + 3000, 100, 0),
        change('POST-PRIMARY', T0 + 4000, 90, 10)
      ],
      versions: [{ at: T0, byFleet: { [BLUE]: ['s7-live'], [GREEN]: ['s7-new'] } }],
      runs: [run('primary', 'promote'), run('rollback', 'rollback'), run('post-primary', 'promote')],
      proxy: [served(T0 + 2000, GREEN, 's7-new'), served(T0 + 4500, GREEN, 's7-new')]
    })
    const found = undoneServed(o)
    expect(found).toHaveLength(1)
    expect(found[0].detail).toMatch(/1 requests answered by s7-new after rollback \(rollback\) undid it at \+3\.00s/)
  })

  it('a version undone before the episode (a failed deploy) may never answer', () => {
    const o = observed({
      episode: episode({ kind: 'failed-idle', otherRole: 'failed', otherVersion: 's7-failed' }, 'rollback'),
      proxy: [served(T0 + 10, GREEN, 's7-failed')]
    })
    expect(undoneServed(o).map((v) => v.invariant)).toEqual(['undone-served'])
  })

  it('the stable release, run by an instance that joined the new fleet, is not what a restore undid', () => {
    const o = observed({
      weightChanges: [change('PRIMARY', T0 + 1000, 90, 10), change('PRIMARY', T0 + 2000, 100, 0)],
      versions: [{ at: T0, byFleet: { [BLUE]: ['s7-live'], [GREEN]: ['s7-new', 's7-live'] } }],
      proxy: [served(T0 + 3000, BLUE, 's7-live'), served(T0 + 3000, GREEN, 's7-new')]
    })
    expect(undoneServed(o).map((v) => v.detail)).toEqual([
      expect.stringMatching(/^1 requests answered by s7-new after/)
    ])
  })

  it('a person who took the fleet to 0 with stickiness left on keeps its pinned clients: until a run writes the route again', () => {
    const o = observed({
      weightChanges: [
        change('PRIMARY', T0 + 1000, 90, 10),
        change('CONSOLE', T0 + 2000, 100, 0),
        change('POST-PRIMARY', T0 + 4000, 100, 0)
      ],
      versions: [{ at: T0, byFleet: { [BLUE]: ['s7-live'], [GREEN]: ['s7-new'] } }],
      runs: [run('primary', 'deploy'), run('post-primary', 'deploy')],
      proxy: [
        served(T0 + 3000, GREEN, 's7-new', { sticky: true }),
        served(T0 + 3100, GREEN, 's7-new'),
        served(T0 + 4500, GREEN, 's7-new', { sticky: true })
      ]
    })
    expect(undoneServed(o).map((v) => v.detail)).toEqual([
      expect.stringMatching(/^2 requests answered by s7-new after a person/)
    ])
  })

  it('a successful flip undoes nothing', () => {
    const o = observed({
      weightChanges: [change('PRIMARY', T0 + 1000, 0, 100)],
      versions: [{ at: T0, byFleet: { [BLUE]: ['s7-live'], [GREEN]: ['s7-new'] } }],
      proxy: [served(T0 + 2000, GREEN, 's7-new')]
    })
    expect(undoneServed(o)).toEqual([])
  })
})

describe('hidden-traffic', () => {
  it('flags requests reaching a fleet at weight 0, except right at a change or after a person edited the route', () => {
    const o = observed({
      weightChanges: [change('PRIMARY', T0 + 1000, 50, 50), change('PRIMARY', T0 + 2000, 0, 100)],
      proxy: [
        served(T0 + 2010, BLUE, 's7-live'),
        served(T0 + 2500, BLUE, 's7-live'),
        served(T0 + 2600, BLUE, 's7-live')
      ]
    })
    expect(hiddenTraffic(o)).toEqual([
      expect.objectContaining({
        invariant: 'hidden-traffic',
        detail: expect.stringMatching(/^2 requests reached web-blue at weight 0 on the listener/)
      })
    ])
    const edited = observed({
      weightChanges: [change('PRIMARY', T0 + 1000, 50, 50), change('CONSOLE', T0 + 2000, 100, 0)],
      proxy: [served(T0 + 2500, GREEN, 's7-new')]
    })
    expect(hiddenTraffic(edited)).toEqual([])
  })
})

describe('exclusive', () => {
  it('flags a run changing AWS again after another run changed it', () => {
    const o = observed({
      runs: [run('primary', 'promote'), run('rollback', 'rollback'), run('post-primary', 'promote')],
      calls: [
        call('PRIMARY', 'ModifyListener', T0 + 100),
        call('ROLLBACK', 'ModifyListener', T0 + 200),
        call('POST-PRIMARY', 'ModifyListener', T0 + 300)
      ]
    })
    expect(exclusive(o)).toEqual([
      expect.objectContaining({
        detail: expect.stringMatching(
          /^primary \(promote\) ModifyListener at \+0\.30s after rollback \(rollback\) ModifyListener/
        )
      })
    ])
  })

  it('the lock itself is not a change, and a run may put its records right after a person edited the weights', () => {
    const lock = { Tags: [{ Key: 'bluegreen:lock', Value: 'x' }] }
    const role = { Tags: [{ Key: 'bluegreen:role', Value: 'failed' }] }
    const o = observed({
      runs: [run('primary', 'deploy'), run('second', 'deploy')],
      calls: [
        call('PRIMARY', 'AddTags', T0 + 50, lock),
        call('SECOND', 'AddTags', T0 + 60, lock),
        call('PRIMARY', 'ModifyListener', T0 + 100),
        call('CONSOLE', 'ModifyListener', T0 + 200),
        call('PRIMARY', 'AddTags', T0 + 300, role),
        call('SECOND', 'RemoveTags', T0 + 400, { TagKeys: ['bluegreen:lock'] })
      ]
    })
    expect(exclusive(o)).toEqual([])
    o.calls.push(call('PRIMARY', 'ModifyListener', T0 + 500))
    expect(exclusive(o)).toHaveLength(1)
  })
})

describe('reported-weights', () => {
  it('flags weights a run reports that differ from what it last read, unless it said so loudly', () => {
    const write = call('PRIMARY', 'ModifyListener', T0 + 50)
    const flip = { ...change('PRIMARY', T0 + 50, 0, 100), seq: write.seq }
    const read = call('PRIMARY', 'DescribeListeners', T0 + 100)
    const o = observed({
      calls: [write, read],
      weightChanges: [flip, change('ROLLBACK', T0 + 200, 100, 0)],
      runs: [
        run('primary', 'deploy', {
          outputs: { result: 'succeeded', weights: JSON.stringify({ [BLUE]: 0, [GREEN]: 100 }) }
        })
      ]
    })
    // What it last read is what it reports, even though a rollback came after.
    expect(reportedWeights(o)).toEqual([])
    o.calls.push(call('PRIMARY', 'DescribeListeners', T0 + 300))
    expect(reportedWeights(o)).toEqual([
      expect.objectContaining({
        detail: expect.stringMatching(
          /reported web-blue 0\/web-green 100, but the routes read web-blue 100\/web-green 0/
        )
      })
    ])
    o.runs[0].alerts = [
      '::error::restoring the weights FAILED (x): traffic may still reach web-green, run rollback now'
    ]
    expect(reportedWeights(o)).toEqual([])
  })

  it('a run that changed nothing reports a read, which may be stale by its end: not judged', () => {
    const o = observed({
      calls: [call('STATUS', 'DescribeListeners', T0 + 100)],
      weightChanges: [change('ROLLBACK', T0 + 50, 0, 100)],
      runs: [
        run('status', 'status', {
          outputs: { result: 'unchanged', weights: JSON.stringify({ [BLUE]: 100, [GREEN]: 0 }) }
        })
      ]
    })
    expect(reportedWeights(o)).toEqual([])
  })
})

describe('routes, records, lock', () => {
  it('routes that disagree at the end are flagged, unless a run said so', () => {
    const o = observed({
      final: {
        ...observed().final,
        routes: { [LISTENER]: { [BLUE]: 100, [GREEN]: 0 }, [RULE]: { [BLUE]: 50, [GREEN]: 50 } }
      }
    })
    expect(routesAgree(o)).toHaveLength(1)
    o.runs[0].alerts = ['::error::Routes disagree: run rollback']
    expect(routesAgree(o)).toEqual([])
  })

  it('records must name the live fleet, its version on every instance, and no canary at weight 0', () => {
    const mutated = [call('PRIMARY', 'ModifyListener', T0 + 1)]
    const ok = observed({ calls: mutated })
    expect(recordsMatch(ok)).toEqual([])
    const stray = observed({
      calls: mutated,
      final: { ...ok.final, instanceVersions: { ...ok.final.instanceVersions, [BLUE]: ['s7-live', 's7-old'] } }
    })
    expect(recordsMatch(stray)[0].detail).toMatch(
      /web-blue is recorded live with version s7-live, but its instances run s7-live, s7-old/
    )
    const canaryAtZero = observed({
      calls: mutated,
      final: {
        ...ok.final,
        tags: { ...ok.final.tags, [GREEN]: { 'bluegreen:role': 'canary', 'bluegreen:version': 's7-new' } }
      }
    })
    expect(recordsMatch(canaryAtZero)[0].detail).toMatch(/web-green takes no traffic but is recorded canary/)
    // Nothing changed by a run: the start state is not the run's to answer for.
    expect(recordsMatch(observed({ final: canaryAtZero.final }))).toEqual([])
  })

  it('a lock left after every run ended is flagged', () => {
    expect(lockFree(observed())).toEqual([])
    expect(
      lockFree(observed({ final: { ...observed().final, locks: ['parameter /bluegreen/pair/x/lock: {}'] } }))
    ).toHaveLength(1)
  })
})

describe('lossless and refused up front', () => {
  it('only the 500s of the version made to answer them are allowed', () => {
    const bad = episode({}, 'deploy', [{ kind: 'bad-version' }])
    const o = observed({ episode: bad, proxy: [served(T0 + 1, GREEN, 's7-new', { status: 500 })] })
    expect(lossless(o)).toEqual([])
    o.proxy.push(served(T0 + 2, GREEN, 's7-new', { status: 502, error: 'upstream ECONNRESET' }))
    expect(lossless(o)[0].detail).toMatch(/1 requests failed .*502 upstream ECONNRESET from web-green/)
    expect(lossless(observed({ clientErrors: [{ at: T0 + 5, error: 'ECONNRESET' }] }))).toHaveLength(1)
    // The soak's own machine stalling is not a failed request.
    expect(lossless(observed({ clientErrors: [{ at: T0 + 5, error: 'ETIMEDOUT' }] }))).toEqual([])
  })

  it('an impossible setting must fail the run before any change, the lock included', () => {
    const e = episode({}, 'deploy', [{ kind: 'bad-setting', setting: 'health-timeout' }])
    const refused = observed({
      episode: e,
      runs: [run('primary', 'deploy', { exitCode: 1 })],
      calls: [call('PRIMARY', 'DescribeListeners', T0)]
    })
    expect(refusedBeforeChange(refused)).toEqual([])
    const late = observed({
      episode: e,
      runs: [run('primary', 'deploy', { exitCode: 1 })],
      calls: [call('PRIMARY', 'AddTags', T0, { Tags: [{ Key: 'bluegreen:lock', Value: 'x' }] })]
    })
    expect(refusedBeforeChange(late)[0].detail).toMatch(/changed AWS before refusing \(AddTags\)/)
  })
})

test('a quiet episode where nothing happens violates nothing', () => {
  expect(checkInvariants(observed())).toEqual([])
})
