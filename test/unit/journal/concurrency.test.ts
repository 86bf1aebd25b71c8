/**
 * Concurrent appends, in one process and across processes. Child processes cannot load TypeScript on Node 20,
 * so the journal sources are transpiled (types stripped, nothing re-implemented) into a scratch directory that
 * links the project's node_modules, and each child imports the real store from there.
 */
import {spawn} from 'node:child_process'
import {mkdir, readdir, readFile, symlink, writeFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'
import {describe, expect, it} from 'vitest'
import {appendJournal, readJournal} from '../../../src/journal/store.js'
import {verifyJournal} from '../../../src/journal/verify.js'
import {sampleRecord, scratchDir} from './helpers.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

const transpileInto = async (target: string, sourceDirs: string[]): Promise<void> => {
  for (const dir of sourceDirs) {
    for (const name of (await readdir(join(root, dir))).filter((file) => file.endsWith('.ts'))) {
      const source = await readFile(join(root, dir, name), 'utf8')
      const {outputText} = ts.transpileModule(source, {compilerOptions: {module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022}})
      const out = join(target, dir, name.replace(/\.ts$/, '.js'))
      await mkdir(dirname(out), {recursive: true})
      await writeFile(out, outputText)
    }
  }
  await writeFile(join(target, 'package.json'), '{"type":"module"}')
  await symlink(join(root, 'node_modules'), join(target, 'node_modules'), 'dir')
}

/** Loads the store, reports ready, waits for "go" on stdin so all children start appending together. */
const CHILD = `
import {appendJournal} from './src/journal/store.js'
const [path, child, count, record] = process.argv.slice(2)
process.stdout.write('ready\\n')
await new Promise((go) => process.stdin.once('data', go))
for (let n = 0; n < Number(count); n++) {
  await appendJournal(path, {...JSON.parse(record), details: {child: Number(child), n}})
}
process.exit(0)
`

interface Child {
  ready: Promise<void>
  go: () => void
  exit: Promise<{code: number | null; stderr: string}>
}

const startChild = (cwd: string, args: string[]): Child => {
  const child = spawn(process.execPath, ['child.mjs', ...args], {cwd, stdio: ['pipe', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  return {
    ready: new Promise((done, fail) => {
      child.stdout.once('data', () => done())
      child.once('exit', () => fail(new Error(`child exited before it was ready: ${stderr}`)))
    }),
    go: () => child.stdin.end('go\n'),
    exit: new Promise((done, fail) => {
      child.on('error', fail)
      child.on('exit', (code) => done({code, stderr}))
    }),
  }
}

const expectChainOf = async (path: string, total: number): Promise<void> => {
  expect(await verifyJournal(path)).toMatchObject({ok: true, lines: total})
  expect((await readJournal(path)).map((entry) => entry.seq)).toEqual(Array.from({length: total}, (_, index) => index + 1))
}

describe('concurrent appends', () => {
  it('50 concurrent in-process appends form one intact chain with every entry once', async () => {
    const path = join(await scratchDir(), 'journal.jsonl')
    await Promise.all(Array.from({length: 50}, (_, n) => appendJournal(path, sampleRecord({details: {n}}))))
    await expectChainOf(path, 50)
    const seen = (await readJournal(path)).map((entry) => entry.details?.n).sort((a, b) => Number(a) - Number(b))
    expect(seen).toEqual(Array.from({length: 50}, (_, n) => n))
  })

  it('appends from several processes at once form one intact chain', async () => {
    const work = await scratchDir()
    await transpileInto(work, ['src/journal', 'src/cli', 'src/guards'])
    await writeFile(join(work, 'child.mjs'), CHILD)
    const path = join(work, 'state', 'journal.jsonl')
    const children = 4
    const perChild = 25
    const record = JSON.stringify(sampleRecord())
    const started = Array.from({length: children}, (_, child) => startChild(work, [path, String(child), String(perChild), record]))
    await Promise.all(started.map((child) => child.ready))
    for (const child of started) child.go()
    for (let n = 0; n < perChild; n++) await appendJournal(path, sampleRecord({details: {child: -1, n}}))
    for (const result of await Promise.all(started.map((child) => child.exit))) expect(result).toEqual({code: 0, stderr: ''})
    await expectChainOf(path, (children + 1) * perChild)
    const entries = await readJournal(path)
    for (let child = -1; child < children; child++) {
      const mine = entries.filter((entry) => entry.details?.child === child).map((entry) => entry.details?.n)
      expect(mine).toEqual(Array.from({length: perChild}, (_, n) => n))
    }
  })
})
