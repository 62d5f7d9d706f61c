// Reads a CloudFormation template (YAML short-form intrinsics included) and checks it against the
// CloudFormation resource schemas that AWS's CDK team publishes (@aws-cdk/aws-service-spec): every
// resource type exists, every property is one the type has, required properties are there, values
// have the property's shape, and every Ref, GetAtt, Sub variable and Condition names something
// the template or CloudFormation defines.
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec'
import { parse, type Tags } from 'yaml'

type SpecDatabase = Awaited<ReturnType<typeof loadAwsServiceSpec>>
type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export interface Template {
  Parameters?: Record<string, { Type: string }>
  Conditions?: Record<string, Json>
  Resources: Record<string, { Type: string; Condition?: string; Properties?: Record<string, Json> }>
  Outputs?: Record<string, { Value: Json }>
}

const FUNCTIONS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or'
]

const customTags: Tags = [
  { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) },
  { tag: '!Condition', resolve: (value: string) => ({ Condition: value }) },
  { tag: '!GetAtt', resolve: (value: string) => ({ 'Fn::GetAtt': value.split('.') }) },
  { tag: '!GetAtt', collection: 'seq', resolve: (value: { toJSON(): unknown }) => ({ 'Fn::GetAtt': value.toJSON() }) },
  ...FUNCTIONS.flatMap((name) => [
    { tag: `!${name}`, resolve: (value: unknown) => ({ [`Fn::${name}`]: value }) },
    {
      tag: `!${name}`,
      collection: 'seq' as const,
      resolve: (value: { toJSON(): unknown }) => ({ [`Fn::${name}`]: value.toJSON() })
    },
    {
      tag: `!${name}`,
      collection: 'map' as const,
      resolve: (value: { toJSON(): unknown }) => ({ [`Fn::${name}`]: value.toJSON() })
    }
  ])
]

export function parseTemplate(text: string): Template {
  return parse(text, { customTags }) as Template
}

const PSEUDO = [
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix'
]

const isIntrinsic = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.keys(v).length === 1 &&
  /^(Ref|Condition|Fn::\w+)$/.test(Object.keys(v)[0])

export async function loadSpec(): Promise<SpecDatabase> {
  return loadAwsServiceSpec()
}

/** Everything wrong with the template, one line each (empty when it is well-formed). */
export function templateProblems(template: Template, db: SpecDatabase): string[] {
  const problems: string[] = []
  const parameters = Object.keys(template.Parameters ?? {})
  const resources = template.Resources ?? {}
  const conditions = Object.keys(template.Conditions ?? {})
  const specOf = (type: string) => db.lookup('resource', 'cloudFormationType', 'equals', type)[0]

  const checkReference = (where: string, name: string, attribute?: string): void => {
    if (attribute === undefined) {
      if (!parameters.includes(name) && !resources[name] && !PSEUDO.includes(name))
        problems.push(`${where}: Ref to undefined ${name}`)
      return
    }
    const resource = resources[name]
    if (!resource) return void problems.push(`${where}: GetAtt of undefined resource ${name}`)
    const spec = specOf(resource.Type)
    if (spec && !Object.hasOwn(spec.attributes, attribute))
      problems.push(`${where}: ${resource.Type} has no attribute ${attribute}`)
  }

  const checkIntrinsics = (where: string, value: Json): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => checkIntrinsics(`${where}[${i}]`, v))
    if (typeof value !== 'object' || value === null) return
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') checkReference(where, inner)
      else if (key === 'Fn::GetAtt' && Array.isArray(inner)) checkReference(where, String(inner[0]), String(inner[1]))
      else if (key === 'Condition' && typeof inner === 'string' && isIntrinsic(value)) {
        if (!conditions.includes(inner)) problems.push(`${where}: undefined condition ${inner}`)
      } else if (
        key === 'Fn::If' &&
        Array.isArray(inner) &&
        typeof inner[0] === 'string' &&
        !conditions.includes(inner[0])
      ) {
        problems.push(`${where}: Fn::If on undefined condition ${inner[0]}`)
      } else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? inner[0] : inner
        const variables =
          Array.isArray(inner) && typeof inner[1] === 'object' && inner[1] !== null ? Object.keys(inner[1]) : []
        for (const m of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const [name, attribute] = m[1].split('.')
          if (!variables.includes(name)) checkReference(where, name, attribute)
        }
      }
      checkIntrinsics(where, inner)
    }
  }

  // A property type from the spec: does the value have its shape? Intrinsics stand for any value.
  const checkValue = (where: string, type: SpecType, value: Json): void => {
    if (isIntrinsic(value)) return
    switch (type.type) {
      case 'string':
        if (typeof value !== 'string') problems.push(`${where}: expected a string`)
        return
      case 'integer':
      case 'number':
        if (typeof value !== 'number' && !(typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)))
          problems.push(`${where}: expected a number`)
        return
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false')
          problems.push(`${where}: expected a boolean`)
        return
      case 'array':
        if (!Array.isArray(value)) return void problems.push(`${where}: expected a list`)
        return value.forEach((v, i) => checkValue(`${where}[${i}]`, type.element, v))
      case 'map':
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          return void problems.push(`${where}: expected a map`)
        return Object.entries(value as Record<string, Json>).forEach(([k, v]) =>
          checkValue(`${where}.${k}`, type.element, v)
        )
      case 'tag':
        if (
          typeof value !== 'object' ||
          value === null ||
          Array.isArray(value) ||
          !('Key' in value) ||
          !('Value' in value)
        )
          problems.push(`${where}: expected a tag { Key, Value }`)
        return
      case 'ref':
        return checkObject(where, db.get('typeDefinition', type.reference.$ref).properties, value)
      case 'union':
        if (!type.types.some((t) => shapeProblems(t, value).length === 0))
          problems.push(`${where}: matches none of the accepted shapes`)
        return
      default:
        return // json, date-time, null: anything
    }
  }
  const shapeProblems = (type: SpecType, value: Json): string[] => {
    const before = problems.length
    checkValue('', type, value)
    return problems.splice(before)
  }
  const checkObject = (
    where: string,
    properties: Record<string, { type: SpecType; required?: boolean }>,
    value: Json
  ): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return void problems.push(`${where}: expected an object`)
    for (const [name, v] of Object.entries(value)) {
      if (!Object.hasOwn(properties, name)) problems.push(`${where}: unknown property ${name}`)
      else checkValue(`${where}.${name}`, properties[name].type, v)
    }
    for (const [name, property] of Object.entries(properties)) {
      if (property.required && !(name in value)) problems.push(`${where}: missing required property ${name}`)
    }
  }

  for (const [name, resource] of Object.entries(resources)) {
    const spec = specOf(resource.Type)
    if (!spec) {
      problems.push(`${name}: unknown resource type ${resource.Type}`)
      continue
    }
    if (resource.Condition && !conditions.includes(resource.Condition))
      problems.push(`${name}: undefined condition ${resource.Condition}`)
    checkObject(
      name,
      spec.properties as Record<string, { type: SpecType; required?: boolean }>,
      (resource.Properties ?? {}) as Json
    )
    checkIntrinsics(name, (resource.Properties ?? {}) as Json)
  }
  for (const [name, output] of Object.entries(template.Outputs ?? {})) checkIntrinsics(`Outputs.${name}`, output.Value)
  for (const [name, condition] of Object.entries(template.Conditions ?? {}))
    checkIntrinsics(`Conditions.${name}`, condition)
  return problems
}

type SpecType =
  | { type: 'string' | 'integer' | 'number' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'array' | 'map'; element: SpecType }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'union'; types: SpecType[] }
