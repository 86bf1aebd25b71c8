/**
 * Start-up stays cheap only if heavy dependencies are imported inside execute(), never at module top level
 * of a command or of the base command (oclif imports the command module before parsing flags, --help of a
 * real command included). Imports every built command module in a child with a resolve hook and fails with
 * the import chain of each heavy package found. Needs dist/ (`npm test` builds first).
 */
import {spawnSync} from 'node:child_process'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {cleanup, REPO, tempDir} from './helpers.js'

afterAll(cleanup)

const HEAVY = /\/node_modules\/(zod|undici|conf|listr2|ajv|inquirer|@inquirer\/[^/]+)\//

/** parent URL → child URLs, as resolved when `modules` are imported one after another in a fresh process. */
function importGraph(modules: string[]): Map<string, string[]> {
  const dir = tempDir()
  const record = join(dir, 'edges.txt')
  writeFileSync(join(dir, 'hook.mjs'), `import {appendFileSync} from 'node:fs'\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(record)}, (c.parentURL ?? '-') + ' ' + r.url + '\\n'); return r }\n`)
  writeFileSync(join(dir, 'register.mjs'), `import {register} from 'node:module'\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hook.mjs')).href)})\n`)
  const script = modules.map((m) => `await import(${JSON.stringify(pathToFileURL(m).href)})`).join('\n')
  const res = spawnSync(process.execPath, ['--no-warnings', '--import', join(dir, 'register.mjs'), '--input-type=module', '-e', script], {encoding: 'utf8', env: {PATH: process.env.PATH, HOME: dir}})
  expect(res.status, res.stderr).toBe(0)
  const graph = new Map<string, string[]>()
  for (const line of readFileSync(record, 'utf8').split('\n').filter(Boolean)) {
    const [parent, child] = line.split(' ')
    graph.set(parent, [...(graph.get(parent) ?? []), child])
  }
  return graph
}

/** The first import chain from `from` to a heavy package, as repo-relative paths. */
function heavyChain(graph: Map<string, string[]>, from: string): string[] | undefined {
  const seen = new Set<string>()
  const walk = (url: string, path: string[]): string[] | undefined => {
    if (HEAVY.test(url)) return [...path, url]
    if (seen.has(url) || url.includes('/node_modules/')) return undefined
    seen.add(url)
    for (const next of graph.get(url) ?? []) {
      const found = walk(next, [...path, url])
      if (found) return found
    }
    return undefined
  }
  return walk(from, [])?.map((u) => u.replace(pathToFileURL(REPO).href + '/', '').replace(/^.*\/node_modules\//, 'node_modules/'))
}

describe('module top level of commands and the base command', () => {
  it('imports none of zod, undici, conf, listr2, inquirer', () => {
    const commands = (readdirSync(join(REPO, 'dist', 'commands'), {recursive: true}) as string[]).filter((f) => f.endsWith('.js')).map((f) => join(REPO, 'dist', 'commands', f))
    expect(commands.length).toBeGreaterThan(10)
    const modules = [join(REPO, 'dist', 'src', 'cli', 'base.js'), ...commands]
    const graph = importGraph(modules)
    expect(graph.size).toBeGreaterThan(modules.length)
    const offenders = modules.map((m) => heavyChain(graph, pathToFileURL(m).href)).filter(Boolean).map((chain) => chain!.join(' → '))
    expect(offenders).toEqual([])
  })
})
