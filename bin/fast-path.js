/**
 * Start-up fast path: answers `--version`, root help, topic help and `<command> --help` from package.json and
 * oclif.manifest.json without importing @oclif/core (which alone costs about 100 ms). The output reproduces
 * @oclif/core 4's help layout (plugin-help's Help class, docopts usage, wrap-ansi hard wrapping, bold section
 * headers and underlined flag values on a colour terminal) byte for byte.
 *
 * Anything it does not reproduce exactly returns undefined and bin/run.js hands the argv to oclif unchanged:
 * real commands, any other flag, `--`, unknown commands or topics, aliases, hooks, custom help classes or
 * themes, user plugins, a stale manifest, unusual colour settings (FORCE_COLOR, CI on a TTY), characters
 * whose terminal width is not 1, and any error at all. KMSGUARD_NO_FAST_PATH=1 turns it off.
 * Dependency-free on purpose: node:fs, node:path and node:url only.
 */
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const ESC = '\u001B'

/** Raised for anything outside what this module reproduces; fastPath() turns it into a fallback. */
class Unsupported extends Error {}
const unsupported = (why) => {
  throw new Unsupported(why)
}

// ---- the CLI as oclif would load it ---------------------------------------------------------------------------

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'))
const sameVersion = (a, b) => String(a).split('-')[0] === String(b).split('-')[0]

function packageDir(from, name) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) return unsupported(`plugin ${name} not found`)
  }
}

/** One plugin's commands (from its manifest) and declared topics; refuses what would run code at start-up. */
function loadPlugin(dir, pjson) {
  const o = pjson.oclif ?? {}
  if (o.hooks || o.helpClass || o.state || o.jitPlugins) unsupported('hooks, help class, state or JIT plugins')
  const raw = readFileSync(join(dir, 'oclif.manifest.json'), 'utf8')
  if (raw.includes(ESC) || /\\u001b/i.test(raw)) unsupported('escape codes in help text')
  const manifest = JSON.parse(raw)
  if (!sameVersion(manifest.version, pjson.version)) unsupported('stale manifest')
  const topics = Object.entries(o.topics ?? {}).map(([name, t]) => (t.subtopics ? unsupported('nested topics') : {...t, name}))
  return {commands: Object.values(manifest.commands), topics}
}

/** The merged view of the root package and its core plugins: what oclif's Config would hold. */
export function loadCli(root = ROOT, env = process.env) {
  const pjson = readJson(join(root, 'package.json'))
  const o = pjson.oclif ?? {}
  if (o.topicSeparator !== ' ' || o.flexibleTaxonomy || o.helpOptions || pjson.helpOptions || o.devPlugins || o.binAliases || o.commands?.strategy) unsupported('oclif settings')
  const bin = o.bin || pjson.name
  // oclif's per-user directories: <BIN>_<CATEGORY>_DIR, else XDG_<CATEGORY>_HOME or ~/.local/share | ~/.config.
  const userDir = (category, fallback) => env[`${bin.replaceAll('@', '').replaceAll(/[/-]/g, '_')}_${category}_DIR`.toUpperCase()] ||
    join(env[`XDG_${category}_HOME`] || join(env.HOME ?? unsupported('no HOME'), fallback), o.dirname || pjson.name)
  if (existsSync(join(userDir('DATA', '.local/share'), 'package.json'))) unsupported('user plugins')
  const plugins = [loadPlugin(root, pjson)]
  for (const name of o.plugins ?? []) {
    if (typeof name !== 'string') unsupported('plugin object')
    const dir = packageDir(root, name)
    const plugin = readJson(join(dir, 'package.json'))
    if (plugin.oclif?.plugins?.length) unsupported('nested plugins')
    plugins.push(loadPlugin(dir, plugin))
  }
  const commands = new Map()
  const topics = new Map()
  for (const p of plugins) {
    for (const t of p.topics) {
      const existing = topics.get(t.name)
      if (existing) topics.set(t.name, {...existing, description: t.description || existing.description, hidden: existing.hidden || t.hidden})
      else topics.set(t.name, t)
    }
    for (const c of p.commands) {
      if (commands.has(c.id) || c.aliases?.length || c.hiddenAliases?.length || c.state || c.deprecationOptions || c.hasDynamicHelp || c.pluginType === 'jit' || c.usage) unsupported(`command ${c.id}`)
      commands.set(c.id, c)
    }
  }
  // Like oclif: every visible command id and each of its prefixes is a topic (declared descriptions win).
  for (const c of commands.values()) {
    if (c.hidden) continue
    for (let parts = c.id.split(':'); parts.length > 0; parts.pop()) {
      const name = parts.join(':')
      if (!topics.has(name)) topics.set(name, {name, description: c.summary || c.description})
    }
  }
  return {
    pjson, bin, commands, topics,
    /** A user theme only changes colours; it is checked only when colour is on. */
    hasTheme: () => Boolean(o.theme) || existsSync(join(userDir('CONFIG', '.config'), 'theme.json')),
    description: o.description || pjson.description || '',
    helpFlags: [...new Set([...(o.additionalHelpFlags ?? []), '--help'])],
    versionFlags: [...new Set(['--version', ...(o.additionalVersionFlags ?? [])])],
  }
}

// ---- which answer the argv asks for ---------------------------------------------------------------------------

/** version | root | command | topic help for argv, or undefined when oclif must decide. Mirrors oclif's main.run. */
export function route(argv, cli) {
  if (argv.length > 0 && cli.versionFlags.includes(argv[0])) return {kind: 'version'}
  if (argv.length === 0) return {kind: 'root'}
  const helpFlag = argv.some((a) => cli.helpFlags.includes(a))
  const words = argv.filter((a) => !cli.helpFlags.includes(a))
  if (words.some((w) => w.startsWith('-'))) return undefined
  const helpCommand = words[0] === 'help' && cli.commands.has('help')
  if (helpCommand) words.shift()
  else if (!helpFlag) {
    // Bare topic words show the topic's help; anything else is a real command for oclif.
    const id = words.join(':')
    return cli.topics.has(id) && !cli.commands.has(id) ? {kind: 'topic', topic: cli.topics.get(id)} : undefined
  }
  // oclif reads `help X Y --help` as X alone and skips a second `help` word: leave such forms to it.
  if ((helpCommand && helpFlag && words.length > 1) || words.includes('help')) return undefined
  if (words.length === 0) return {kind: 'root'}
  const id = words.join(':')
  if (cli.commands.has(id)) return {kind: 'command', command: cli.commands.get(id)}
  if (cli.topics.has(id)) return {kind: 'topic', topic: cli.topics.get(id)}
  return undefined
}

// ---- text layout (ports of wrap-ansi 7 with {hard: true}, indent-string, and oclif's HelpFormatter) ------------

const ANSI = new RegExp(`${ESC}\\[\\d+m`, 'g')
/** Characters string-width counts as exactly one column; anything else falls back to oclif. */
const NARROW = /^[\n\u0020-\u007E\u00A0-\u024F\u0370-\u04FF\u2010-\u2027\u2030-\u205E\u2190-\u22FF\u2500-\u257F]*$/
const SGR_CLOSE = {1: 22, 4: 24}
const width = (s) => [...s.replace(ANSI, '')].length
const sgr = (code) => `${ESC}[${code}m`

function wrapWord(rows, word, columns) {
  const chars = [...word]
  let inEscape = false
  let visible = width(rows.at(-1))
  for (const [i, ch] of chars.entries()) {
    const w = ch === ESC ? 0 : 1
    if (visible + w <= columns) rows[rows.length - 1] += ch
    else {
      rows.push(ch)
      visible = 0
    }
    if (ch === ESC) inEscape = true
    if (inEscape) {
      if (ch === 'm') inEscape = false
      continue
    }
    visible += w
    if (visible === columns && i < chars.length - 1) {
      rows.push('')
      visible = 0
    }
  }
  if (!visible && rows.at(-1).length > 0 && rows.length > 1) rows[rows.length - 2] += rows.pop()
}

function trimSpacesRight(row) {
  const words = row.split(' ')
  let last = words.length
  while (last > 0 && width(words[last - 1]) === 0) last--
  return last === words.length ? row : words.slice(0, last).join(' ') + words.slice(last).join('')
}

function wrapLine(line, columns) {
  if (line.trim() === '') return ''
  let rows = ['']
  for (const [i, word] of line.split(' ').entries()) {
    rows[rows.length - 1] = rows.at(-1).trimStart()
    let rowLength = width(rows.at(-1))
    if (i !== 0 && rowLength > 0) {
      rows[rows.length - 1] += ' '
      rowLength++
    }
    const length = width(word)
    if (length > columns) {
      const remaining = columns - rowLength
      if (Math.floor((length - 1) / columns) < 1 + Math.floor((length - remaining - 1) / columns)) rows.push('')
      wrapWord(rows, word, columns)
      continue
    }
    if (rowLength + length > columns && rowLength > 0 && length > 0) rows.push('')
    rows[rows.length - 1] += word
  }
  // Close an open style before each break and reopen it after, as wrap-ansi does.
  const text = rows.map(trimSpacesRight).join('\n')
  let out = ''
  let open
  for (let i = 0; i < text.length; i++) {
    out += text[i]
    if (text[i] === ESC) open = Number(/^\[(\d+)m/.exec(text.slice(i + 1))?.[1])
    if (SGR_CLOSE[open] && text[i + 1] === '\n') out += sgr(SGR_CLOSE[open])
    else if (SGR_CLOSE[open] && text[i] === '\n') out += sgr(open)
  }
  return out
}

const wrapAnsi = (text, columns) => String(text).normalize().replace(/\r\n/g, '\n').split('\n').map((l) => wrapLine(l, columns)).join('\n')
const indent = (text, n) => text.replace(/^(?!\s*$)/gm, ' '.repeat(n))
const compact = (list) => list.filter(Boolean)

function compare(a, b) {
  a = a === undefined ? 0 : a
  b = b === undefined ? 0 : b
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length === 0 && b.length === 0) return 0
    return compare(a[0], b[0]) || compare(a.slice(1), b.slice(1))
  }
  return a < b ? -1 : a > b ? 1 : 0
}
const sortBy = (list, key) => list.sort((a, b) => compare(key(a), key(b)))

/** The help renderer for one invocation: terminal width, colour, and the `<%= %>` values oclif's templates see. */
class Formatter {
  constructor(cli, {maxWidth, colour, commandId}) {
    Object.assign(this, {cli, maxWidth, colour, commandId})
  }

  /** The only EJS oclif help text uses here: `<%= config.bin %>` and, in command help, `<%= command.id %>`. */
  render(text) {
    const out = String(text).replace(/<%=\s*(config\.bin|command\.id)\s*%>/g, (_, name) => {
      const value = name === 'config.bin' ? this.cli.bin : (this.commandId ?? unsupported('command.id outside command help'))
      return /[&<>"']/.test(value) ? unsupported('HTML-escaped template value') : value
    })
    return out.includes('<%') ? unsupported('template') : out
  }

  style(code, text) {
    return this.colour ? `${sgr(code)}${text}${sgr(SGR_CLOSE[code])}` : text
  }

  wrap(body, spacing = 2) {
    return wrapAnsi(this.render(body), this.maxWidth - spacing)
  }

  section(header, body) {
    const text = Array.isArray(body) ? this.list(body.map(([l, r]) => [this.render(l), r && this.render(r)]), 2) : this.render(body)
    return `${this.style(1, header)}\n${indent(text, 2)}`
  }

  list(rows, indentation) {
    if (rows.length === 0) return ''
    const multiline = () => rows.filter(([l, r]) => l || r).map(([l, r]) =>
      (l ? this.wrap(l.trim(), indentation) : '') + (r ? `\n${indent(this.wrap(r.trim(), indentation + 2), 4)}` : '')).join('\n\n').trim()
    const maxLength = Math.max(...rows.flatMap(([l]) => (l || '').split('\n').map(width)))
    const lines = []
    for (const [left, right] of rows) {
      let cur = left || ''
      if (!right) {
        lines.push(cur.trim())
        continue
      }
      const [first, ...rest] = this.wrap(right.trim(), indentation + maxLength + 2).split('\n').map((s) => s.trim())
      cur += ' '.repeat(maxLength - width(cur) + 2) + first
      if (rest.length > 4) return multiline()
      if (rest.length > 0) cur += `\n${indent(rest.join('\n'), maxLength + 2)}`
      lines.push(cur)
    }
    return lines.join('\n').trim()
  }

  summary(c) {
    if (c.summary) return this.render(c.summary.split('\n')[0])
    return c.description && this.render(c.description).split('\n')[0]
  }

  commandList(commands) {
    return commands.length === 0 ? '' : this.section('COMMANDS', this.list(commands.map((c) => [c.id.replaceAll(':', ' '), this.summary(c)]), 2))
  }

  topicList(topics) {
    return topics.length === 0 ? '' : this.section('TOPICS', this.list(topics.map((t) => [t.name.replaceAll(':', ' '), t.description && this.render(t.description.split('\n')[0])]), 2))
  }
}

// ---- command help: usage (docopts), arguments, flags, description, examples ----------------------------------

function usageType(flag, showOptions) {
  if (flag.type !== 'option') return ''
  const values = flag.helpValue ? [flag.helpValue].flat() : [flag.options ? (showOptions ? flag.options.join('|') : '<option>') : '<value>']
  return values.map((v) => `${v}${flag.multiple ? '...' : ''}`).join(' ')
}

function docopts(cmd, flags, args) {
  const parts = ['<%= command.id %>', ...args.map((a) => {
    const name = `${a.name.toUpperCase()}${a.multiple || cmd.strict === false ? '...' : ''}`
    return a.required ? name : `[${name}]`
  })]
  const pending = Object.fromEntries(flags.map((f) => [f.name, f]))
  const elements = {}
  for (const f of [...flags.filter((f) => f.required), ...flags.filter((f) => !f.required)]) {
    elements[f.name] = `${f.char ? `-${f.char}` : `--${f.name}`}${f.type === 'option' ? ` ${usageType(f, true)}` : ''}`
  }
  const combine = (name, others, union) => {
    if (!pending[name]) return
    const required = pending[name].required === true || others.some((o) => pending[o]?.required)
    for (const other of others) {
      elements[name] = `${elements[name] || ''}${union}${elements[other] || ''}`
      delete elements[other]
      delete pending[other]
    }
    elements[name] = required ? `(${elements[name] || ''})` : `[${elements[name] || ''}]`
    delete pending[name]
  }
  for (const f of flags) {
    if (Array.isArray(f.dependsOn)) combine(f.name, f.dependsOn, ' ')
    const exclusive = new Set(Array.isArray(f.exclusive) ? f.exclusive : [])
    if (Array.isArray(f.combinable)) for (const other of flags) if (other !== f && !f.combinable.includes(other.name)) exclusive.add(other.name)
    if (exclusive.size > 0) combine(f.name, [...exclusive], ' | ')
  }
  for (const f of Object.values(pending)) if (!f.required) elements[f.name] = `[${elements[f.name] || ''}]`
  return [...parts, ...Object.values(elements)].join(' ')
}

function usage(fmt, cmd, flags, args) {
  const id = cmd.id.replaceAll(':', ' ')
  const rest = docopts(cmd, flags, args).replace('<%= command.id %>', '').replace(new RegExp(`^${cmd.id}`), '').replace(new RegExp(`^${id}`), '').trim()
  const line = `$ ${fmt.cli.bin} <%= command.id %> ${rest}`.trim()
  const allowed = fmt.maxWidth - 2
  if (line.length <= allowed) return fmt.wrap(line)
  const split = Math.max(0, line.slice(0, Math.max(0, allowed)).lastIndexOf(' '))
  return `${line.slice(0, split)}\n${indent(fmt.wrap(line.slice(split), 4), 2)}`
}

function flagRows(fmt, flags) {
  const noChar = flags.every((f) => f.char === undefined)
  return flags.map((f) => {
    let left = f.helpLabel || [f.char ? `-${f.char[0]}` : '  ', f.type === 'boolean' && f.allowNo ? `--[no-]${f.name.trim()}` : `--${f.name.trim()}`].join(f.char ? ', ' : '  ')
    if (f.type === 'option') {
      const value = usageType(f, false)
      left += `=${value.includes('|') ? value : fmt.style(4, value)}`
    }
    if (noChar) left = left.replace('    ', '')
    let right = f.summary || f.description || ''
    const meta = [f.type === 'option' && f.default && `default: ${f.default}`, f.env && `env: ${f.env}`].filter(Boolean)
    if (meta.length > 0) right = `[${meta.join(', ')}] ${right}`
    if (f.required) right = `(required) ${right}`
    if (f.type === 'option' && f.options && !f.helpValue) right += `\n<options: ${f.options.join('|')}>`
    return [left, right.trim()]
  })
}

function examples(fmt, list) {
  const bin = fmt.cli.bin
  const asCommand = (e) => {
    const text = fmt.render(e)
    return text.startsWith(bin) ? `$ ${text}` : text.startsWith(`$ ${bin}`) ? `$${text.replace('$', '')}` : text
  }
  const isCommand = (e) => asCommand(e).startsWith(`$ ${bin}`)
  return [list].flat().map((e) => {
    let description = e.description
    let commands = [e.command]
    if (typeof e === 'string') {
      const lines = e.split(/\r\n|\n/).filter(Boolean)
      if (!(lines.length >= 2 && !isCommand(lines[0]) && lines.slice(1).every(isCommand))) return lines.map(asCommand).join('\n')
      ;[description, ...commands] = lines
    }
    const shown = commands.map((c) => indent(fmt.wrap(asCommand(c), 8), 2).split(/\r\n|\n/).join(' \\\n  ')).join('\n')
    return `${fmt.wrap(description, 4)}\n\n${shown}`
  }).join('\n\n')
}

function commandHelp(fmt, cmd) {
  const declared = Object.entries(cmd.flags ?? {}).filter(([, f]) => !f.hidden).map(([name, f]) => ({...f, name}))
  const flags = sortBy([...declared], (f) => [!f.char, f.char, f.name])
  if (flags.some((f) => f.summary && f.description)) unsupported('FLAG DESCRIPTIONS section')
  const args = Object.entries(cmd.args ?? {}).map(([name, a]) => ({...a, name})).filter((a) => !a.hidden)
  const groups = new Map([['', []]])
  for (const f of flags) {
    const group = f.helpGroup ? `${f.helpGroup.toUpperCase()} FLAGS` : ''
    groups.set(group, [...(groups.get(group) ?? []), f])
  }
  const argRows = args.some((a) => a.description) && args.map((a) => {
    const name = `${a.name.toUpperCase()}${a.multiple || cmd.strict === false ? '...' : ''}`
    let description = a.description || ''
    if (a.default) description = `[default: ${a.default}] ${description}`
    if (a.options) description = `(${a.options.join('|')}) ${description}`
    return [a.required ? name : `[${name}]`, description || undefined]
  })
  const description = cmd.description && fmt.wrap([...(cmd.summary ? `${cmd.summary}\n`.split(/\r\n|\n/) : []), ...cmd.description.split(/\r\n|\n/)].join('\n'))
  const example = cmd.examples || cmd.example
  return compact([
    fmt.section('USAGE', usage(fmt, cmd, declared, args)),
    argRows && fmt.section('ARGUMENTS', argRows),
    [...groups].filter(([, list]) => list.length > 0).map(([group, list]) => fmt.section(group || 'FLAGS', flagRows(fmt, list))).join('\n\n'),
    description && fmt.section('DESCRIPTION', description),
    example?.length > 0 && fmt.section('EXAMPLES', examples(fmt, example)),
  ]).join('\n\n')
}

// ---- whole answers ------------------------------------------------------------------------------------------

const visibleTopics = (cli) => {
  const names = [...cli.topics.keys()]
  return sortBy([...cli.topics.values()].filter((t) => !t.hidden && names.some((n) => n.includes(`${t.name}:`))), (t) => t.name)
}
const visibleCommands = (cli) => sortBy([...cli.commands.values()].filter((c) => !c.hidden), (c) => c.id)
const children = (list, name, key) => list.filter((x) => key(x).startsWith(`${name}:`) && key(x).split(':').length === name.split(':').length + 1)

/** What oclif prints with console.log per block: each block followed by a newline. */
const blocks = (...parts) => parts.map((p) => `${p}\n`).join('')

function rootHelp(fmt, cli, userAgent) {
  const [summary, ...more] = fmt.render(cli.description).split('\n')
  const head = compact([
    summary,
    fmt.section('VERSION', fmt.wrap(userAgent)),
    fmt.section('USAGE', fmt.wrap(`$ ${cli.bin} [COMMAND]`)),
    more.join('\n') && fmt.section('DESCRIPTION', fmt.wrap(more.join('\n'))),
  ]).join('\n\n')
  const topics = visibleTopics(cli).filter((t) => !t.name.includes(':'))
  const commands = visibleCommands(cli).filter((c) => !c.id.includes(':'))
  return blocks(head, '', ...(topics.length > 0 ? [fmt.topicList(topics), ''] : []), ...(commands.length > 0 ? [fmt.commandList(commands), ''] : []))
}

function subjectLists(fmt, cli, name) {
  const topics = children(visibleTopics(cli), name, (t) => t.name)
  const seen = []
  const commands = children(visibleCommands(cli), name, (c) => c.id).filter((c) => {
    seen.push(...(c.aliases ?? []))
    return !seen.includes(c.id)
  })
  return [...(topics.length > 0 ? [fmt.topicList(topics), ''] : []), ...(commands.length > 0 ? [fmt.commandList(commands), ''] : [])]
}

function topicHelp(fmt, cli, topic) {
  const [summary, ...more] = fmt.render(topic.description || '').split('\n')
  const head = compact([
    summary,
    fmt.section('USAGE', `$ ${cli.bin} ${topic.name.replaceAll(':', ' ')} COMMAND`),
    more.join('\n') && fmt.section('DESCRIPTION', fmt.wrap(more.join('\n'))),
  ]).join('\n\n')
  return blocks(`${head}\n`, ...subjectLists(fmt, cli, topic.name))
}

function commandPage(fmt, cli, cmd) {
  const summary = fmt.summary(cmd)
  return blocks(...(summary ? [`${summary}\n`] : []), commandHelp(fmt, cmd), '', ...subjectLists(fmt, cli, cmd.id))
}

/** oclif's colour decision (supports-color on stdout and stderr, then ansis): true, false, or undefined = unsure. */
export function colourMode(env, stdout, stderr) {
  if ('FORCE_COLOR' in env) return env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false' ? false : undefined
  if (!stdout.isTTY || !stderr.isTTY || env.TERM === 'dumb' || env.NO_COLOR) return false
  if ('CI' in env || 'TEAMCITY_VERSION' in env) return undefined
  return /^screen|^xterm|^vt100|^vt220|^rxvt|color|ansi|cygwin|linux/i.test(env.TERM ?? '') || 'COLORTERM' in env || /^(iTerm\.app|Apple_Terminal)$/.test(env.TERM_PROGRAM ?? '') ? true : undefined
}

function terminalWidth(env, stdout) {
  const columns = Number.parseInt(env.OCLIF_COLUMNS, 10)
  if (columns) return columns
  if (!stdout.isTTY) return 80
  const w = stdout.getWindowSize()[0]
  return w < 1 ? 80 : Math.max(w, 40)
}

/**
 * The text oclif would write to stdout for argv, or undefined when oclif must run. Pure apart from reading
 * package.json and the manifests; never throws.
 */
export function fastPath(argv, {root = ROOT, env = process.env, stdout = process.stdout, stderr = process.stderr, platform = process.platform, arch = process.arch, nodeVersion = process.version} = {}) {
  try {
    if (env.KMSGUARD_NO_FAST_PATH || platform === 'win32' || env.DEBUG || argv.includes('--')) return undefined
    if (platform === 'linux' && /microsoft/i.test(readFileSync('/proc/version', 'utf8'))) return undefined // oclif reports "wsl"
    const cli = loadCli(root, env)
    const answer = route(argv, cli)
    if (!answer) return undefined
    const userAgent = `${cli.pjson.name}/${cli.pjson.version} ${platform}-${arch === 'ia32' ? 'x86' : arch} node-${nodeVersion}`
    if (answer.kind === 'version') return `${userAgent}\n`
    const colour = colourMode(env, stdout, stderr)
    if (colour === undefined || (colour && cli.hasTheme())) return undefined
    const maxWidth = terminalWidth(env, stdout)
    const commandId = answer.kind === 'command' ? answer.command.id.replaceAll(':', ' ') : undefined
    const fmt = new Formatter(cli, {maxWidth, colour, commandId})
    const text = answer.kind === 'root' ? rootHelp(fmt, cli, userAgent) : answer.kind === 'topic' ? topicHelp(fmt, cli, answer.topic) : commandPage(fmt, cli, answer.command)
    return NARROW.test(text.replace(ANSI, '')) ? text : undefined
  } catch {
    return undefined
  }
}
