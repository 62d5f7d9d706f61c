import {
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
  paginateGetParametersByPath,
  type PutParameterCommandInput
} from '@aws-sdk/client-ssm'
import { parameterValue } from '../../sandbox/world.js'
import { clientConfig, rejection, startHarness, type Harness } from './aws-helpers.js'

let h: Harness

beforeEach(async () => {
  h = await startHarness()
})

afterEach(async () => {
  await h.close()
})

const put = (input: Partial<PutParameterCommandInput> & { Name: string }) =>
  h.ssm.send(new PutParameterCommand({ Value: 'v', Type: 'String', ...input }))
const get = (Name: string, WithDecryption?: boolean) => h.ssm.send(new GetParameterCommand({ Name, WithDecryption }))

describe('Parameter Store: PutParameter and GetParameter', () => {
  test('a create returns version 1 in the standard tier and reads back with its metadata', async () => {
    const out = await put({ Name: '/web/blue/version', Value: 'abc123' })
    expect(out).toMatchObject({ Version: 1, Tier: 'Standard' })
    const p = (await get('/web/blue/version')).Parameter!
    expect(p).toMatchObject({
      Name: '/web/blue/version',
      Type: 'String',
      Value: 'abc123',
      Version: 1,
      DataType: 'text',
      ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/web/blue/version'
    })
    const stored = h.world.parameters.get('/web/blue/version')!.versions[0]
    expect(p.LastModifiedDate).toBeInstanceOf(Date)
    expect(p.LastModifiedDate!.getTime()).toBe(stored.lastModifiedAt)
    // Other sandbox parts (an instance's boot script) read the same store.
    expect(parameterValue(h.world, '/web/blue/version')).toBe('abc123')
    // A name without hierarchy has the ARN AWS gives it.
    await put({ Name: 'plain' })
    expect((await get('plain')).Parameter!.ARN).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/plain')
  })

  test('without Overwrite an existing name fails with ParameterAlreadyExists and nothing changes', async () => {
    await put({ Name: '/lock', Value: 'run-1' })
    const err = await rejection(put({ Name: '/lock', Value: 'run-2' }))
    expect(err.name).toBe('ParameterAlreadyExists')
    expect(err.message).toBe(
      'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.'
    )
    expect(err.$metadata?.httpStatusCode).toBe(400)
    const p = (await get('/lock')).Parameter!
    expect([p.Value, p.Version]).toEqual(['run-1', 1])
    const explicitFalse = await rejection(put({ Name: '/lock', Value: 'run-2', Overwrite: false }))
    expect(explicitFalse.name).toBe('ParameterAlreadyExists')
  })

  test('each overwrite is a new version, keeps the type when omitted, and older versions stay readable by selector', async () => {
    await put({ Name: '/cfg', Value: 'one', Type: 'StringList' })
    const first = (await get('/cfg')).Parameter!
    const out = await h.ssm.send(new PutParameterCommand({ Name: '/cfg', Value: 'two', Overwrite: true }))
    expect(out.Version).toBe(2)
    await h.ssm.send(new PutParameterCommand({ Name: '/cfg', Value: 'two', Overwrite: true }))
    const p = (await get('/cfg')).Parameter!
    expect([p.Value, p.Version, p.Type]).toEqual(['two', 3, 'StringList'])
    expect(p.LastModifiedDate!.getTime()).toBeGreaterThanOrEqual(first.LastModifiedDate!.getTime())
    const v1 = (await get('/cfg:1')).Parameter!
    expect(v1).toMatchObject({ Name: '/cfg', Value: 'one', Version: 1, Selector: ':1' })
    expect((await rejection(get('/cfg:9'))).name).toBe('ParameterVersionNotFound')
    expect((await rejection(get('/cfg:some-label'))).name).toBe('ParameterNotFound')
  })

  test('two concurrent creates of one name: exactly one wins, the other gets ParameterAlreadyExists', async () => {
    const other = new SSMClient(clientConfig(h.url))
    try {
      for (let i = 0; i < 10; i++) {
        const name = `/locks/pair-${i}`
        const results = await Promise.allSettled([
          h.ssm.send(new PutParameterCommand({ Name: name, Value: 'a', Type: 'String' })),
          other.send(new PutParameterCommand({ Name: name, Value: 'b', Type: 'String' }))
        ])
        const won = results.filter((r) => r.status === 'fulfilled')
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
        expect(won).toHaveLength(1)
        expect(lost).toHaveLength(1)
        expect((lost[0].reason as Error).name).toBe('ParameterAlreadyExists')
        const winner = results[0].status === 'fulfilled' ? 'a' : 'b'
        expect(parameterValue(h.world, name)).toBe(winner)
        expect(h.world.parameters.get(name)!.versions).toHaveLength(1)
      }
    } finally {
      other.destroy()
    }
  })

  test('Tags cannot be combined with Overwrite; on a create they are stored', async () => {
    const err = await rejection(put({ Name: '/t', Overwrite: true, Tags: [{ Key: 'app', Value: 'web' }] }))
    expect(err.name).toBe('ValidationException')
    expect(err.message).toMatch(/^Invalid request: tags and overwrite can't be used together\./)
    expect(h.world.parameters.has('/t')).toBe(false)
    await put({ Name: '/t', Tags: [{ Key: 'app', Value: 'web' }] })
    expect([...h.world.parameters.get('/t')!.tags]).toEqual([['app', 'web']])
  })

  test('a type is required to create, and must be one of String, StringList, SecureString', async () => {
    const missing = await rejection(h.ssm.send(new PutParameterCommand({ Name: '/x', Value: 'v' })))
    expect(missing.name).toBe('ValidationException')
    expect(missing.message).toBe('A parameter type is required when you create a parameter.')
    const bad = await rejection(put({ Name: '/x', Type: 'Text' as never }))
    expect(bad.name).toBe('ValidationException')
    expect(bad.message).toMatch(/enum value set: \[String, StringList, SecureString\]/)
    const empty = await rejection(put({ Name: '/x', Value: '' }))
    expect(empty.name).toBe('ValidationException')
  })

  test('name rules: characters, fully qualified paths, reserved prefixes, 15 levels, spaces trimmed', async () => {
    const notQualified = await rejection(put({ Name: 'web/version' }))
    expect([notQualified.name, notQualified.message]).toEqual([
      'ValidationException',
      'Parameter name must be a fully qualified name.'
    ])
    for (const bad of ['/web/ver sion', '/web/v@1', '/web//v', '/web/']) {
      const err = await rejection(put({ Name: bad }))
      expect(err.name).toBe('ValidationException')
      expect(err.message).toMatch(/^Parameter name: can't be prefixed with "ssm"/)
    }
    for (const reserved of ['/aws/x', 'awsome', 'SSM-param', '/ssm/a']) {
      const err = await rejection(put({ Name: reserved }))
      expect(err.name).toBe('AccessDeniedException')
      expect(err.message).toBe(`No access to reserved parameter name: ${reserved}.`)
    }
    const fifteen = '/' + Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')
    await put({ Name: fifteen })
    const deep = await rejection(put({ Name: `${fifteen}/l15` }))
    expect(deep.name).toBe('HierarchyLevelLimitExceededException')
    await put({ Name: '  /trimmed  ' })
    expect(h.world.parameters.has('/trimmed')).toBe(true)
    expect((await rejection(get('/missing'))).name).toBe('ParameterNotFound')
  })

  test('value size: 4 KB in the standard tier, 8 KB in the advanced tier, no downgrade', async () => {
    await put({ Name: '/s', Value: 'x'.repeat(4096) })
    const big = await rejection(put({ Name: '/s2', Value: 'x'.repeat(4097) }))
    expect(big.name).toBe('ValidationException')
    expect(big.message).toMatch(/^Standard tier parameters support a maximum parameter value of 4096 characters/)
    expect((await put({ Name: '/a', Value: 'x'.repeat(8192), Tier: 'Advanced' })).Tier).toBe('Advanced')
    expect((await rejection(put({ Name: '/a2', Value: 'x'.repeat(8193), Tier: 'Advanced' }))).name).toBe(
      'ValidationException'
    )
    expect((await put({ Name: '/i', Value: 'x'.repeat(5000), Tier: 'Intelligent-Tiering' })).Tier).toBe('Advanced')
    expect((await put({ Name: '/i2', Value: 'x', Tier: 'Intelligent-Tiering' })).Tier).toBe('Standard')
    const down = await rejection(put({ Name: '/a', Value: 'y', Tier: 'Standard', Overwrite: true }))
    expect(down.message).toMatch(/can't downgrade a parameter from the advanced-parameter tier/)
    // Without a tier an overwrite stays where the parameter is.
    expect((await put({ Name: '/a', Value: 'y', Overwrite: true })).Tier).toBe('Advanced')
  })

  test('a SecureString reads as ciphertext unless decrypted', async () => {
    await put({ Name: '/db/password', Value: 's3cret', Type: 'SecureString' })
    const enc = (await get('/db/password')).Parameter!
    expect(enc.Type).toBe('SecureString')
    expect(enc.Value).not.toContain('s3cret')
    expect(enc.Value).toMatch(/^[A-Za-z0-9+/]+=*$/)
    expect((await get('/db/password', true)).Parameter!.Value).toBe('s3cret')
    const meta = (await h.ssm.send(new DescribeParametersCommand({}))).Parameters!
    expect(meta.find((m) => m.Name === '/db/password')!.KeyId).toBe('alias/aws/ssm')
  })

  test('AllowedPattern is enforced on the value, nested parameter references are refused', async () => {
    const err = await rejection(put({ Name: '/n', Value: 'abc', AllowedPattern: '^\\d+$' }))
    expect(err.name).toBe('ParameterPatternMismatchException')
    await put({ Name: '/n', Value: '42', AllowedPattern: '^\\d+$' })
    // The pattern stays with the parameter for later overwrites.
    expect((await rejection(put({ Name: '/n', Value: 'x', Overwrite: true }))).name).toBe(
      'ParameterPatternMismatchException'
    )
    expect((await rejection(put({ Name: '/m', Value: '{{ssm:/other}}' }))).name).toBe('ValidationException')
  })
})

describe('Parameter Store: batch reads, deletes and paths', () => {
  test('GetParameters returns what exists and lists the rest as invalid; at most 10 names', async () => {
    await put({ Name: '/a', Value: '1' })
    await put({ Name: '/b', Value: '2' })
    const out = await h.ssm.send(new GetParametersCommand({ Names: ['/a', '/nope', '/b'] }))
    expect(out.Parameters!.map((p) => [p.Name, p.Value]).sort()).toEqual([
      ['/a', '1'],
      ['/b', '2']
    ])
    expect(out.InvalidParameters).toEqual(['/nope'])
    const many = Array.from({ length: 11 }, (_, i) => `/p${i}`)
    const err = await rejection(h.ssm.send(new GetParametersCommand({ Names: many })))
    expect(err.name).toBe('ValidationException')
    expect(err.message).toMatch(/names.*less than or equal to 10/)
  })

  test('DeleteParameter deletes once, then ParameterNotFound; DeleteParameters reports both lists', async () => {
    await put({ Name: '/lock' })
    await h.ssm.send(new DeleteParameterCommand({ Name: '/lock' }))
    expect(h.world.parameters.has('/lock')).toBe(false)
    expect((await rejection(h.ssm.send(new DeleteParameterCommand({ Name: '/lock' })))).name).toBe('ParameterNotFound')
    // Deleted means free: the next create wins again, at version 1.
    expect((await put({ Name: '/lock' })).Version).toBe(1)
    await put({ Name: '/x' })
    const out = await h.ssm.send(new DeleteParametersCommand({ Names: ['/lock', '/x', '/gone'] }))
    expect(out.DeletedParameters).toEqual(['/lock', '/x'])
    expect(out.InvalidParameters).toEqual(['/gone'])
  })

  test('GetParametersByPath: one level or recursive, at most 10 a page, NextToken to continue', async () => {
    for (const n of ['/app/a', '/app/b', '/app/deep/c', '/app/deep/er/d', '/apple', '/other/x'])
      await put({ Name: n, Value: n })
    const one = await h.ssm.send(new GetParametersByPathCommand({ Path: '/app' }))
    expect(one.Parameters!.map((p) => p.Name)).toEqual(['/app/a', '/app/b'])
    const rec = await h.ssm.send(new GetParametersByPathCommand({ Path: '/app/', Recursive: true }))
    expect(rec.Parameters!.map((p) => p.Name)).toEqual(['/app/a', '/app/b', '/app/deep/c', '/app/deep/er/d'])

    const first = await h.ssm.send(new GetParametersByPathCommand({ Path: '/', Recursive: true, MaxResults: 2 }))
    expect(first.Parameters).toHaveLength(2)
    expect(first.NextToken).toBeDefined()
    const names: string[] = []
    for await (const page of paginateGetParametersByPath(
      { client: h.ssm, pageSize: 2 },
      { Path: '/', Recursive: true }
    )) {
      names.push(...page.Parameters!.map((p) => p.Name!))
    }
    expect(names).toEqual(['/app/a', '/app/b', '/app/deep/c', '/app/deep/er/d', '/apple', '/other/x'])

    expect((await rejection(h.ssm.send(new GetParametersByPathCommand({ Path: '/', MaxResults: 11 })))).name).toBe(
      'ValidationException'
    )
    expect((await rejection(h.ssm.send(new GetParametersByPathCommand({ Path: '/', NextToken: 'bogus' })))).name).toBe(
      'InvalidNextToken'
    )
    const noSlash = await rejection(h.ssm.send(new GetParametersByPathCommand({ Path: 'app' })))
    expect(noSlash.message).toMatch(/must begin with a forward slash/)
    const typed = await h.ssm.send(
      new GetParametersByPathCommand({
        Path: '/app',
        ParameterFilters: [{ Key: 'Type', Option: 'Equals', Values: ['StringList'] }]
      })
    )
    expect(typed.Parameters).toEqual([])
    const badKey = await rejection(
      h.ssm.send(new GetParametersByPathCommand({ Path: '/app', ParameterFilters: [{ Key: 'Name', Values: ['x'] }] }))
    )
    expect(badKey.name).toBe('InvalidFilterKey')
  })

  test('DescribeParameters lists metadata without values, filtered by path and name', async () => {
    await put({ Name: '/web/blue/version', Value: 'v1', Description: 'blue fleet version' })
    await put({ Name: '/web/green/version', Value: 'v2' })
    await h.ssm.send(new PutParameterCommand({ Name: '/web/green/version', Value: 'v3', Overwrite: true }))
    const all = (await h.ssm.send(new DescribeParametersCommand({}))).Parameters!
    expect(all.map((p) => [p.Name, p.Version, p.Tier])).toEqual([
      ['/web/blue/version', 1, 'Standard'],
      ['/web/green/version', 2, 'Standard']
    ])
    expect(all[0]).toMatchObject({ Description: 'blue fleet version', Type: 'String', DataType: 'text' })
    expect(all[0]).not.toHaveProperty('Value')
    const green = await h.ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/web/green'] }]
      })
    )
    expect(green.Parameters!.map((p) => p.Name)).toEqual(['/web/green/version'])
    const path = await h.ssm.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: ['/web'] }] })
    )
    expect(path.Parameters).toHaveLength(2)
  })

  test('the call log records Parameter Store calls like the others, errors included', async () => {
    await put({ Name: '/lock', Value: 'run-1' })
    await rejection(put({ Name: '/lock', Value: 'run-2' }))
    await get('/lock')
    expect(h.world.calls.map((c) => [c.service, c.operation, c.status, c.errorCode])).toEqual([
      ['ssm', 'PutParameter', 200, undefined],
      ['ssm', 'PutParameter', 400, 'ParameterAlreadyExists'],
      ['ssm', 'GetParameter', 200, undefined]
    ])
    expect(h.world.calls[1].params).toMatchObject({ Name: '/lock', Value: 'run-2' })
  })
})
