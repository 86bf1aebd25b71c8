/**
 * The start-up fast path (bin/fast-path.js) must print exactly what oclif prints, for every form it answers,
 * and hand everything else to oclif. Each comparison runs the real bin/run.js twice: as is, and with
 * KMSGUARD_NO_FAST_PATH=1 (oclif's own rendering). Needs the built manifest (`npm test` builds first).
 */
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
// @ts-expect-error -- plain JavaScript module without type declarations
import {colourMode, fastPath, loadCli, route} from '../../../bin/fast-path.js'
import {ANSI, both, cleanEnv, cleanup, fakeRoot, manifest, mapLimit, REPO, run, tempDir} from './helpers.js'

afterAll(cleanup)

const m = manifest()
const visible = Object.values(m.commands).filter((c) => !c.hidden)
const words = (id: string) => id.split(':')
const answered = (argv: string[], opts: object = {}) => fastPath(argv, {env: cleanEnv(), stdout: {isTTY: false}, stderr: {isTTY: false}, ...opts})

describe('--version', () => {
  it('prints the same user agent as oclif, without loading it', async () => {
    const {fast, oclif} = await both(['--version'])
    expect(oclif.code).toBe(0)
    expect(fast).toEqual(oclif)
    expect(fast.stdout).toBe(`kmsguard/${m.version} ${process.platform}-${process.arch} node-${process.version}\n`)
    expect(answered(['--version'])).toBe(fast.stdout)
  })
})

describe('help, identical to oclif', () => {
  it('root help lists every command and topic, exactly as oclif does', async () => {
    for (const argv of [[], ['--help'], ['help']]) {
      const {fast, oclif} = await both(argv)
      expect(fast).toEqual(oclif)
      expect(answered(argv)).toBe(fast.stdout)
    }
    const {stdout} = await run(['--help'], cleanEnv())
    for (const c of visible.filter((c) => !c.id.includes(':'))) expect(stdout).toMatch(new RegExp(`^  ${c.id} `, 'm'))
    for (const topic of new Set(visible.filter((c) => c.id.includes(':')).map((c) => words(c.id)[0]))) expect(stdout).toMatch(new RegExp(`^TOPICS\\n(  .*\\n)*  ${topic} `, 'm'))
  })

  it('every command\'s --help (both argv orders, and `help <command>`) matches oclif and shows every flag', {timeout: 180_000}, async () => {
    const forms = visible.flatMap((c) => [[...words(c.id), '--help'], ['--help', ...words(c.id)], ['help', c.id]])
    const results = await mapLimit(forms, 4, async (argv) => ({argv, ...(await both(argv))}))
    for (const {argv, fast, oclif} of results) {
      expect({argv, ...fast}).toEqual({argv, ...oclif})
      expect(answered(argv), argv.join(' ')).toBe(fast.stdout)
    }
    for (const c of visible) {
      const {fast} = results.find((r) => r.argv.join(' ') === [...words(c.id), '--help'].join(' '))!
      expect(fast.stdout).toContain(`$ kmsguard ${words(c.id).join(' ')}`)
      for (const f of Object.values(c.flags).filter((f) => !f.hidden)) {
        expect(fast.stdout).toContain(`--${f.name}`)
        if (f.char) expect(fast.stdout).toContain(`-${f.char}, --${f.name}`)
      }
    }
  })

  it('topic help (`config`, `config --help`, `help config`) matches oclif', async () => {
    for (const argv of [['config'], ['config', '--help'], ['help', 'config']]) {
      const {fast, oclif} = await both(argv)
      expect(fast).toEqual(oclif)
      expect(fast.stdout).toContain('config get')
      expect(answered(argv)).toBe(fast.stdout)
    }
  })

  it('wraps at OCLIF_COLUMNS like oclif', async () => {
    const lines: number[] = []
    for (const columns of ['48', '120']) {
      const {fast, oclif} = await both(['list', '--help'], {OCLIF_COLUMNS: columns})
      expect(fast).toEqual(oclif)
      lines.push(fast.stdout.split('\n').length)
    }
    expect(lines[0]).toBeGreaterThan(lines[1])
  })
})

describe('colour', () => {
  const tty = (columns: number) => ({stdout: {isTTY: true, getWindowSize: () => [columns, 24]}, stderr: {isTTY: true}})

  it('on a colour terminal: bold headers and underlined values, byte for byte as oclif renders them', async () => {
    for (const argv of [['--help'], ['list', '--help'], ['config']]) {
      const fast = fastPath(argv, {env: {...cleanEnv(), TERM: 'xterm-256color'}, ...tty(100)})
      const oclif = await run(argv, cleanEnv({FORCE_COLOR: '1', OCLIF_COLUMNS: '100', KMSGUARD_NO_FAST_PATH: '1'}))
      expect(fast).toMatch(ANSI)
      expect(fast).toBe(oclif.stdout)
    }
  })

  it('never emits ANSI codes with NO_COLOR, TERM=dumb or a non-TTY stdout/stderr', async () => {
    const noColour = [
      {env: {...cleanEnv(), TERM: 'xterm', NO_COLOR: '1'}, ...tty(80)},
      {env: {...cleanEnv(), TERM: 'dumb'}, ...tty(80)},
      {env: {...cleanEnv(), TERM: 'xterm'}, stdout: {isTTY: false}, stderr: {isTTY: true}},
      {env: {...cleanEnv(), TERM: 'xterm'}, ...tty(80), stderr: {isTTY: false}},
    ]
    for (const opts of noColour) {
      const text = fastPath(['list', '--help'], opts)
      expect(text).toContain('USAGE')
      expect(text).not.toMatch(ANSI)
    }
    for (const argv of [['--help'], ['list', '--help']]) {
      const piped = await run(argv, cleanEnv({NO_COLOR: '1', TERM: 'xterm'}))
      expect(piped.stdout).toContain('USAGE')
      expect(piped.stdout).not.toMatch(ANSI)
    }
  })

  it('leaves doubtful colour settings (FORCE_COLOR, CI on a terminal, unknown TERM) to oclif', () => {
    expect(colourMode({FORCE_COLOR: '1'}, {isTTY: false}, {isTTY: false})).toBeUndefined()
    expect(colourMode({FORCE_COLOR: '0'}, {isTTY: true}, {isTTY: true})).toBe(false)
    expect(colourMode({CI: 'true', TERM: 'xterm'}, {isTTY: true}, {isTTY: true})).toBeUndefined()
    expect(colourMode({}, {isTTY: true}, {isTTY: true})).toBeUndefined()
    expect(colourMode({TERM: 'xterm'}, {isTTY: true}, {isTTY: true})).toBe(true)
    expect(fastPath(['--help'], {env: {...cleanEnv(), FORCE_COLOR: '1'}, stdout: {isTTY: false}, stderr: {isTTY: false}})).toBeUndefined()
  })
})

describe('falls through to oclif', () => {
  it('for real commands, unknown commands, other flags, `--` and ambiguous help forms', () => {
    const cli = loadCli(REPO, cleanEnv())
    const notMine = [
      ['list'], ['list', '-r', 'nl-01'], ['list', '--json', '--help'], ['nosuch'], ['nosuch', '--help'], ['list', 'extra', '--help'],
      ['get', 'KEY', '--help'], ['help', 'config', 'get', '--help'], ['list', 'help'], ['help', '-n'], ['version'],
      ['--help', '--', 'list'], ['--no-color', '--help'],
    ]
    for (const argv of notMine) {
      expect(answered(argv), argv.join(' ')).toBeUndefined()
      if (!argv.includes('--')) expect(route(argv, cli), argv.join(' ')).toBeUndefined()
    }
  })

  it('unknown commands get oclif\'s own message and exit code', async () => {
    for (const argv of [['nosuch'], ['nosuch', '--help'], ['list', 'extra', '--help']]) {
      const {fast, oclif} = await both(argv)
      expect(oclif.code).toBe(2)
      expect(fast).toEqual(oclif)
      expect(fast.stderr).toMatch(/not found/i)
    }
  })

  it('honours additionalHelpFlags / additionalVersionFlags from package.json, like oclif', async () => {
    const root = fakeRoot((pjson) => Object.assign(pjson.oclif, {additionalHelpFlags: ['-h'], additionalVersionFlags: ['-v']}))
    for (const argv of [['-v'], ['-h'], ['list', '-h']]) {
      const text = fastPath(argv, {root, env: cleanEnv(), stdout: {isTTY: false}, stderr: {isTTY: false}})
      expect(text, argv.join(' ')).toBeDefined()
      const oclif = await run(argv, cleanEnv({KMSGUARD_NO_FAST_PATH: '1'}), {bin: join(root, 'bin', 'run.js')})
      expect(oclif.code).toBe(0)
      expect(text).toBe(oclif.stdout)
    }
  })

  it('when the manifest is stale or missing, hooks or a help class are configured, or user plugins exist', () => {
    const cases = [
      fakeRoot((_, mf) => (mf.version = '0.0.1-stale')),
      fakeRoot((pjson) => (pjson.oclif.hooks = {init: './dist/hooks/init.js'})),
      fakeRoot((pjson) => (pjson.oclif.helpClass = './dist/help.js')),
    ]
    const missing = fakeRoot()
    rmSync(join(missing, 'oclif.manifest.json'))
    const pipes = {stdout: {isTTY: false}, stderr: {isTTY: false}}
    expect(fastPath(['--help'], {root: fakeRoot(), env: cleanEnv(), ...pipes})).toBeDefined()
    for (const root of [...cases, missing]) {
      expect(fastPath(['--help'], {root, env: cleanEnv(), ...pipes})).toBeUndefined()
      expect(fastPath(['--version'], {root, env: cleanEnv(), ...pipes})).toBeUndefined()
    }
    const env = cleanEnv({HOME: tempDir()})
    mkdirSync(join(env.HOME!, '.local/share/kmsguard'), {recursive: true})
    writeFileSync(join(env.HOME!, '.local/share/kmsguard/package.json'), '{"oclif":{"plugins":[]}}')
    expect(fastPath(['--help'], {env, ...pipes})).toBeUndefined()
    expect(fastPath(['--help'], {env: cleanEnv({KMSGUARD_NO_FAST_PATH: '1'}), ...pipes})).toBeUndefined()
  })
})

describe('what the fast path loads', () => {
  it('answers --help without importing @oclif/core (or anything outside bin/)', async () => {
    const dir = tempDir()
    const record = join(dir, 'loaded.txt')
    writeFileSync(join(dir, 'hook.mjs'), `import {appendFileSync} from 'node:fs'\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(record)}, r.url + '\\n'); return r }\n`)
    writeFileSync(join(dir, 'register.mjs'), `import {register} from 'node:module'\nregister(${JSON.stringify(`file://${join(dir, 'hook.mjs')}`)})\n`)
    const loaded = async (args: string[], extra: Record<string, string> = {}) => {
      rmSync(record, {force: true})
      const res = await run(args, cleanEnv(extra), {nodeArgs: ['--no-warnings', '--import', join(dir, 'register.mjs')]})
      expect(res.code).toBe(0)
      return readFileSync(record, 'utf8').split('\n').filter(Boolean)
    }
    const fast = await loaded(['list', '--help'])
    expect(fast.filter((u) => u.startsWith('file:')).map((u) => u.replace(`file://${REPO}/`, '')).sort()).toEqual(['bin/fast-path.js', 'bin/run.js'])
    const slow = await loaded(['list', '--help'], {KMSGUARD_NO_FAST_PATH: '1'})
    expect(slow.some((u) => u.includes('/@oclif/core/'))).toBe(true)
  })
})
