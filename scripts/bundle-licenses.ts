// Writes the third-party licences of everything bundled into dist/, from the webpack stats that
// `ncc build --stats-out` emits.
//
// Why not `ncc --license`: ncc passes its file name to license-webpack-plugin without turning off
// the plugin's per-chunk output, so every chunk writes its own list to the same file name and the
// last chunk written wins. Since main.ts loads the operations lazily (so the first AWS request
// goes out before they are parsed), the bundle has several chunks, and licenses.txt listed only
// the packages of a lazy chunk (@actions/*), not the AWS SDK or parse-duration of the main chunk.
// Reading the stats covers every chunk, and the modules concatenated into other modules too.
//
// Usage: tsx scripts/bundle-licenses.ts <stats.json> <licenses.txt> [<stats.json> <licenses.txt> ...]

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import spdx from 'spdx-license-list/full.js'

/** The part of webpack's stats this needs: modules, their chunks, and the modules nested in them. */
export interface StatsModule {
  identifier?: string
  name?: string
  chunks?: Array<string | number>
  modules?: StatsModule[]
}

export interface BundledPackage {
  name: string
  version: string
  license: string
  licenseText?: string
  /** Where the text came from: the package's own licence file, or SPDX's text of its licence id. */
  licenseTextSource?: 'package' | 'spdx'
}

/**
 * The file each bundled module came from. A module that belongs to no chunk was left out of the
 * bundle (except when it is nested in a concatenated module, which is how webpack reports the
 * modules it inlined); loader prefixes (`loader!file`) and concatenation suffixes (`file|hash`)
 * are dropped.
 */
export function bundledFiles(modules: StatsModule[]): string[] {
  const files = new Set<string>()
  const visit = (module: StatsModule, nested: boolean): void => {
    if (!nested && (module.chunks ?? []).length === 0) return
    const id = module.identifier ?? ''
    const file = id.slice(id.lastIndexOf('!') + 1).split('|')[0]
    if (file) files.add(file)
    for (const inner of module.modules ?? []) visit(inner, true)
  }
  for (const module of modules) visit(module, false)
  return [...files]
}

/** The package directory a file belongs to (`…/node_modules/@scope/name`), if it is a dependency's. */
export function packageDirOf(file: string): string | undefined {
  const marker = `${path.sep}node_modules${path.sep}`
  const at = file.lastIndexOf(marker)
  if (at < 0) return undefined
  const rest = file.slice(at + marker.length).split(path.sep)
  const parts = rest[0].startsWith('@') ? rest.slice(0, 2) : rest.slice(0, 1)
  return path.join(file.slice(0, at + marker.length), ...parts)
}

const LICENSE_FILE = /^(licen[cs]e|copying)([.-].*)?$/i

/** Name, version, licence id and text of each package a bundle contains, sorted by name. */
export function bundledPackages(modules: StatsModule[]): BundledPackage[] {
  const dirs = new Set(bundledFiles(modules).map(packageDirOf).filter((d): d is string => d !== undefined))
  const packages = new Map<string, BundledPackage>()
  for (const dir of dirs) {
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string | { type?: string } }
    const license = typeof manifest.license === 'string' ? manifest.license : (manifest.license?.type ?? 'UNKNOWN')
    const textFile = readdirSync(dir).find((f) => LICENSE_FILE.test(f))
    // A few packages (some @aws-sdk/* among them) publish no licence file; the licence still asks
    // for its text to travel with the code, so the standard text of the declared licence goes in.
    const own = textFile ? readFileSync(path.join(dir, textFile), 'utf8').trim() : undefined
    const standard = (spdx as Record<string, { licenseText?: string } | undefined>)[license]?.licenseText?.trim()
    packages.set(`${manifest.name}@${manifest.version}`, {
      name: manifest.name,
      version: manifest.version,
      license,
      licenseText: own ?? standard,
      licenseTextSource: own ? 'package' : standard ? 'spdx' : undefined
    })
  }
  return [...packages.values()].sort((a, b) => (a.name === b.name ? a.version.localeCompare(b.version) : a.name < b.name ? -1 : 1))
}

/** The licences file: each package's name and version, licence id, and licence text. */
export function renderLicenses(packages: BundledPackage[]): string {
  const entry = (p: BundledPackage): string => {
    const id = p.licenseTextSource === 'spdx' ? `${p.license} (the package ships no licence file: SPDX's text of ${p.license})` : p.license
    return [`${p.name} ${p.version}`, id, p.licenseText].filter(Boolean).join('\n')
  }
  return `${packages.map(entry).join('\n\n')}\n`
}

function main(args: string[]): void {
  if (args.length === 0 || args.length % 2 !== 0) throw new Error('usage: bundle-licenses <stats.json> <licenses.txt> [...]')
  for (let i = 0; i < args.length; i += 2) {
    const [statsFile, out] = [args[i], args[i + 1]]
    if (!existsSync(statsFile)) throw new Error(`${statsFile} does not exist: run ncc with --stats-out ${statsFile}`)
    const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as { modules?: StatsModule[] }
    const packages = bundledPackages(stats.modules ?? [])
    writeFileSync(out, renderLicenses(packages))
    console.log(`${out}: ${packages.length} packages`)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2))
