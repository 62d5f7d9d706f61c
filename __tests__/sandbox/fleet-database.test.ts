// The sandbox's shared "database": a file holding a schema version that apps with a schemas file
// read on every request, so that a migration run through SSM changes what old and new code can
// serve, as it would on a real fleet.
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm'
import { readFile } from 'node:fs/promises'
import { parseSchemas } from '../../sandbox/fleet/instances.js'
import { startSandbox } from '../../sandbox/sandbox.js'
import { until } from './fleet-helpers.js'

describe('parseSchemas', () => {
  it.each([
    ['1-2', { min: 1, max: 2 }],
    ['3', { min: 3, max: 3 }],
    [' 2-3 \n', { min: 2, max: 3 }],
    ['', undefined],
    ['two', undefined]
  ])('%p', (text, schemas) => {
    expect(parseSchemas(text)).toEqual(schemas)
  })
})

describe('the shared database', () => {
  it('apps answer while the schema is in their range, 500 outside it; commands change it through $SANDBOX_DB', async () => {
    const sb = await startSandbox({ fleetSize: 1, healthIntervalMs: 50, schemas: '1-2' })
    const ssm = new SSMClient({
      region: 'us-east-1',
      endpoint: sb.endpointUrl,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' }
    })
    try {
      expect((await readFile(sb.databaseFile, 'utf8')).trim()).toBe('1')
      const direct = `http://127.0.0.1:${sb.world.instances.get(sb.blueIds[0])!.port}/`
      const first = await fetch(direct)
      expect(first.status).toBe(200)
      expect(await first.text()).toBe('version=v1 schema=1')

      const run = async (command: string) => {
        const sent = await ssm.send(
          new SendCommandCommand({
            DocumentName: 'AWS-RunShellScript',
            InstanceIds: [sb.greenIds[0]],
            Parameters: { commands: [command] }
          })
        )
        const id = sent.Command!.CommandId!
        await until(
          () => sb.world.commands.get(id)?.invocations.get(sb.greenIds[0])?.status === 'Success',
          5000,
          command
        )
        return (await ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: sb.greenIds[0] })))
          .StandardOutputContent
      }
      // The expand migration: v1 (1-2) keeps working.
      expect(await run('echo "schema $(cat "$SANDBOX_DB") -> 2"; echo 2 > "$SANDBOX_DB"')).toContain('schema 1 -> 2')
      await new Promise((r) => setTimeout(r, 80))
      expect((await fetch(direct)).status).toBe(200)
      // The contract: v1 no longer works with the data; health checks do not see it (they rarely do).
      await run('echo 3 > "$SANDBOX_DB"')
      await new Promise((r) => setTimeout(r, 80))
      const broken = await fetch(direct)
      expect(broken.status).toBe(500)
      expect(broken.headers.get('x-db-schema')).toBe('3')
      expect(await broken.text()).toBe('error version=v1: database schema 3, this version works with 1-2')
      expect((await fetch(`${direct}health`)).status).toBe(200)
    } finally {
      ssm.destroy()
      await sb.stop()
    }
  })
})
