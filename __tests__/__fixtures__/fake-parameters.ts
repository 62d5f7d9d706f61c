// Parameter Store as the lock sees it, on aws-sdk-client-mock: names created once (Overwrite
// false), versions counted per write, AWS's error names, and a hook before each write so a test
// can put another run's write (or a slow answer) exactly where a race would.
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  type SSMClientResolvedConfig
} from '@aws-sdk/client-ssm'
import type { AwsStub } from 'aws-sdk-client-mock'

export interface StoredValue {
  value: string
  version: number
}

export type ParameterWrite =
  { op: 'put'; name: string; value: string; overwrite: boolean } | { op: 'delete'; name: string }

/** The SDK's own error classes, as the real client throws them (`instanceof` and `name` both work). */
function awsError(name: 'ParameterNotFound' | 'ParameterAlreadyExists', message: string): Error {
  const Class = name === 'ParameterNotFound' ? ParameterNotFound : ParameterAlreadyExists
  return new Class({ message, $metadata: {} })
}

export class FakeParameterStore {
  readonly values = new Map<string, StoredValue>()
  /** Every write that took effect, in order. */
  readonly writes: ParameterWrite[] = []
  /** Runs before a write takes effect (and before a read answers): tests hook races and delays here. */
  beforeWrite: (write: ParameterWrite) => Promise<void> | void = () => undefined
  beforeRead: (name: string) => Promise<void> | void = () => undefined
  private readonly lastVersion = new Map<string, number>()

  constructor(stub: AwsStub<ServiceInputTypes, ServiceOutputTypes, SSMClientResolvedConfig>) {
    stub.on(PutParameterCommand).callsFake(async (input: { Name: string; Value: string; Overwrite?: boolean }) => {
      const write: ParameterWrite = {
        op: 'put',
        name: input.Name,
        value: input.Value,
        overwrite: input.Overwrite === true
      }
      await this.beforeWrite(write)
      if (!write.overwrite && this.values.has(input.Name)) {
        throw awsError(
          'ParameterAlreadyExists',
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.'
        )
      }
      // Versions continue after a delete only while the name exists; a new name starts at 1.
      const current = this.values.get(input.Name)
      const version = current ? Math.max(current.version, this.lastVersion.get(input.Name) ?? 0) + 1 : 1
      this.values.set(input.Name, { value: input.Value, version })
      this.lastVersion.set(input.Name, version)
      this.writes.push(write)
      return { Version: version, Tier: 'Standard' }
    })
    stub.on(GetParameterCommand).callsFake(async (input: { Name: string }) => {
      await this.beforeRead(input.Name)
      const stored = this.values.get(input.Name)
      if (!stored) throw awsError('ParameterNotFound', `Parameter ${input.Name} not found.`)
      return { Parameter: { Name: input.Name, Type: 'String', Value: stored.value, Version: stored.version } }
    })
    stub.on(GetParametersCommand).callsFake(async (input: { Names?: string[] }) => {
      const names = input.Names ?? []
      for (const name of names) await this.beforeRead(name)
      return {
        Parameters: names
          .filter((n) => this.values.has(n))
          .map((Name) => ({
            Name,
            Type: 'String',
            Value: this.values.get(Name)!.value,
            Version: this.values.get(Name)!.version
          })),
        InvalidParameters: names.filter((n) => !this.values.has(n))
      }
    })
    stub.on(DeleteParameterCommand).callsFake(async (input: { Name: string }) => {
      const write: ParameterWrite = { op: 'delete', name: input.Name }
      await this.beforeWrite(write)
      if (!this.values.has(input.Name)) throw awsError('ParameterNotFound', `Parameter ${input.Name} not found.`)
      this.values.delete(input.Name)
      this.writes.push(write)
      return {}
    })
  }

  /** The value stored under a name, as a test reads it. */
  get(name: string): string | undefined {
    return this.values.get(name)?.value
  }

  has(name: string): boolean {
    return this.values.has(name)
  }

  /** Stores a value as a person (or another tool) would, overwriting. */
  set(name: string, value: string): void {
    const version = Math.max(this.values.get(name)?.version ?? 0, this.lastVersion.get(name) ?? 0) + 1
    this.values.set(name, { value, version })
    this.lastVersion.set(name, version)
  }

  get size(): number {
    return this.values.size
  }

  json(name: string): Record<string, unknown> | undefined {
    const stored = this.values.get(name)
    return stored ? (JSON.parse(stored.value) as Record<string, unknown>) : undefined
  }
}
