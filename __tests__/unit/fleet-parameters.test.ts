// What Parameter Store records per fleet: names from the target group, the retired record, and
// reads in batches of 10.
import {
  DeleteParameterCommand,
  GetParametersCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient
} from '@aws-sdk/client-ssm'
import { beforeEach, describe, expect, it } from '@jest/globals'
import { mockClient } from 'aws-sdk-client-mock'
import {
  clearRetired,
  decodeRetired,
  encodeRetired,
  readFleetParameters,
  retiredParameterName,
  versionParameterName,
  writeVersionParameter
} from '../../src/records/fleet-parameters.js'

const mock = mockClient(SSMClient)
const ssm = new SSMClient({ region: 'us-east-1' })
const tg = (name: string): string =>
  `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0123456789abcdef`
const GREEN = tg('web-green')

beforeEach(() => {
  mock.reset()
})

describe('fleet parameters', () => {
  it('are named from the target group under the prefix', () => {
    expect(versionParameterName('/bluegreen', GREEN)).toBe('/bluegreen/fleet/web-green/version')
    expect(versionParameterName('/teams/web/', GREEN)).toBe('/teams/web/fleet/web-green/version')
    expect(retiredParameterName('/bluegreen', GREEN)).toBe('/bluegreen/fleet/web-green/retired')
    expect(() => versionParameterName('/bluegreen', 'arn:aws:sns:x')).toThrow(/not a target group ARN/)
  })

  it('the retired record round-trips, and a hand-edited one reads as absent', () => {
    const record = {
      group: 'web-blue-asg',
      minSize: 2,
      desiredCapacity: 3,
      retiredAt: '2026-11-27T12:00:00.000Z',
      by: 'https://github.com/acme/web/actions/runs/1'
    }
    expect(decodeRetired(encodeRetired(record))).toEqual(record)
    expect(decodeRetired('{"group":"g","minSize":-1,"desiredCapacity":3}')).toBeUndefined()
    expect(decodeRetired('three')).toBeUndefined()
    expect(decodeRetired(undefined)).toBeUndefined()
  })

  it('writes the version as a String parameter, overwriting the last one', async () => {
    mock.on(PutParameterCommand).resolves({ Version: 2 })
    expect(await writeVersionParameter(ssm, '/bluegreen', GREEN, 'v2')).toBe('/bluegreen/fleet/web-green/version')
    expect(mock.commandCalls(PutParameterCommand)[0].args[0].input).toMatchObject({
      Name: '/bluegreen/fleet/web-green/version',
      Value: 'v2',
      Type: 'String',
      Overwrite: true
    })
  })

  it('reads every fleet in calls of at most 10 names; absent parameters are absent', async () => {
    mock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
      Parameters: input.Names.filter((n) => n.endsWith('/version')).map((Name) => ({
        Name,
        Value: `${Name.split('/')[3]}@v1`
      })),
      InvalidParameters: input.Names.filter((n) => n.endsWith('/retired'))
    }))
    const arns = ['a', 'b', 'c', 'd', 'e', 'f'].map(tg)
    const out = await readFleetParameters(ssm, '/bluegreen', arns)
    expect(mock.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names?.length)).toEqual([10, 2])
    expect(out.get(tg('c'))).toEqual({ version: 'c@v1', retired: undefined })
  })

  it('forgetting a retirement that is not recorded is not an error; other errors are', async () => {
    mock.on(DeleteParameterCommand).rejectsOnce(new ParameterNotFound({ message: 'not found', $metadata: {} }))
    await expect(clearRetired(ssm, '/bluegreen', GREEN)).resolves.toBeUndefined()
    mock.on(DeleteParameterCommand).rejects(new Error('AccessDenied'))
    await expect(clearRetired(ssm, '/bluegreen', GREEN)).rejects.toThrow('AccessDenied')
  })
})
