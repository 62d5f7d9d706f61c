// dist/ carries the licence of every third-party package bundled into it (scripts/bundle-licenses.ts
// reads them from the bundler's stats, all chunks and inlined modules included).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { bundledFiles, packageDirOf, renderLicenses } from '../../scripts/bundle-licenses.js'
import { REPO_ROOT } from '../__fixtures__/readme.js'

const nm = (p: string): string => path.join('/repo/node_modules', p)

describe('finding the bundled files in webpack stats', () => {
  it('takes modules in a chunk and those inlined into them, without loaders or concatenation hashes, and skips modules in no chunk', () => {
    const files = bundledFiles([
      {
        identifier: `/repo/node_modules/ncc/loaders/ts.js!/repo/src/main.ts|abc123`,
        chunks: [1],
        modules: [
          { identifier: '/repo/src/main.ts', chunks: [] },
          { identifier: nm('parse-duration/index.js'), chunks: [] }
        ]
      },
      { identifier: nm('@aws-sdk/client-ssm/dist-cjs/index.js'), chunks: ['lazy'] },
      { identifier: nm('left-out/index.js'), chunks: [] }
    ])
    expect(files.sort()).toEqual(
      ['/repo/src/main.ts', nm('@aws-sdk/client-ssm/dist-cjs/index.js'), nm('parse-duration/index.js')].sort()
    )
  })

  it('maps a file to its package directory, scoped or not, nested or not', () => {
    expect(packageDirOf(nm('@aws-sdk/client-ssm/dist-cjs/index.js'))).toBe(nm('@aws-sdk/client-ssm'))
    expect(packageDirOf(nm('a/node_modules/b/lib/x.js'))).toBe(nm('a/node_modules/b'))
    expect(packageDirOf('/repo/src/main.ts')).toBeUndefined()
  })

  it('renders each package with its version, licence id and text, saying where a text is the standard one', () => {
    const text = renderLicenses([
      { name: 'a', version: '1.0.0', license: 'MIT', licenseText: 'MIT text', licenseTextSource: 'package' },
      { name: 'b', version: '2.0.0', license: 'Apache-2.0', licenseText: 'Apache text', licenseTextSource: 'spdx' }
    ])
    expect(text).toBe(
      "a 1.0.0\nMIT\nMIT text\n\nb 2.0.0\nApache-2.0 (the package ships no licence file: SPDX's text of Apache-2.0)\nApache text\n"
    )
  })
})

describe('the licences in dist/', () => {
  const dependencies = Object.keys(
    (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> })
      .dependencies
  )
  const entries = (file: string): Map<string, string> =>
    new Map(
      readFileSync(path.join(REPO_ROOT, file), 'utf8')
        .split(/\n\n(?=\S+ \d+\.\d+\.\d+[^\n]*\n)/)
        .map((entry) => {
          const [head, ...rest] = entry.split('\n')
          return [head.split(' ')[0], rest.join('\n')] as const
        })
    )

  it('dist/licenses.txt has every production dependency, each with its licence text', () => {
    const licenses = entries('dist/licenses.txt')
    for (const name of dependencies) {
      expect([name, licenses.has(name)]).toEqual([name, true])
      expect(licenses.get(name)!.length).toBeGreaterThan(200)
    }
  })

  it('dist/post/licenses.txt has the toolkit and the SDK the post step bundles', () => {
    const licenses = entries('dist/post/licenses.txt')
    for (const name of ['@actions/core', '@aws-sdk/client-elastic-load-balancing-v2', '@aws-sdk/client-ssm']) {
      expect([name, licenses.has(name)]).toEqual([name, true])
    }
  })
})
