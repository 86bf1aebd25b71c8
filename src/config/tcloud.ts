/**
 * Reads tcloud's configuration file (`$THALASSA_CONFIG`, else `$THALASSACONFIG`, else `~/.tcloud`) so that an
 * operator already logged in with tcloud needs nothing else. Read-only: kmsguard never writes this file.
 * A missing file is fine; a malformed one is a usage error naming the file and the line.
 */
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {z} from 'zod'
import {usageError} from '../cli/errors.js'

const TcloudFileSchema = z.object({
  configVersion: z.string().optional(),
  'current-context': z.string().optional(),
  contexts: z.array(z.object({name: z.string(), context: z.object({api: z.string().optional(), user: z.string().optional(), organisation: z.string().optional()}).optional()})).optional().nullable(),
  servers: z.array(z.object({name: z.string(), api: z.object({server: z.string().optional()}).optional()})).optional().nullable(),
  users: z.array(z.object({name: z.string(), user: z.object({token: z.string().optional(), accessToken: z.string().optional(), clientID: z.string().optional(), clientSecret: z.string().optional()}).optional()})).optional().nullable(),
})

export interface TcloudContext {
  file: string
  contextName: string
  endpoint?: string
  organisation?: string
  token?: string
  accessToken?: string
  clientId?: string
  clientSecret?: string
}

export function tcloudConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.THALASSA_CONFIG || env.THALASSACONFIG || join(env.HOME || homedir(), '.tcloud')
}

/**
 * Returns the selected context (`--context` or `current-context`), or undefined when there is no file or no
 * current context. A `--context` that names nothing, or a context whose server/user reference is dangling, is
 * an error: a silently different identity is worse than a refusal.
 */
export async function loadTcloudContext(file: string, contextName?: string): Promise<TcloudContext | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      if (contextName) throw usageError(`--context ${contextName}: the tcloud config file ${file} does not exist`)
      return undefined
    }
    if (code === 'EISDIR') throw usageError(`tcloud config ${file} is a directory, not a file`)
    throw usageError(`cannot read tcloud config ${file}: ${code ?? 'unknown error'}`)
  }

  const {parseDocument} = await import('yaml')
  const doc = parseDocument(text, {prettyErrors: false, uniqueKeys: true})
  if (doc.errors.length > 0) {
    const first = doc.errors[0]
    const line = first.linePos?.[0]?.line ?? lineOf(text, first.pos[0])
    throw usageError(`tcloud config ${file}${line ? `, line ${line}` : ''}: malformed YAML (${first.code.toLowerCase().replaceAll('_', ' ')})`, 'Fix the file with `tcloud context` or an editor, or point THALASSA_CONFIG elsewhere.', 'CONFIG_MALFORMED')
  }
  const parsed = TcloudFileSchema.safeParse(doc.toJS() ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue.path.join('.')
    const node = doc.getIn(issue.path, true) as {range?: [number, number]} | undefined
    const line = node?.range ? lineOf(text, node.range[0]) : undefined
    throw usageError(`tcloud config ${file}${line ? `, line ${line}` : ''}: ${path || 'document'}: ${issue.message}`, undefined, 'CONFIG_MALFORMED')
  }
  const cfg = parsed.data
  const name = contextName ?? cfg['current-context']
  if (!name) return undefined
  const ctx = cfg.contexts?.find((c) => c.name === name)
  if (!ctx) throw usageError(`tcloud config ${file}: context "${name}" is not defined`, `Defined contexts: ${(cfg.contexts ?? []).map((c) => c.name).join(', ') || 'none'}`, 'CONFIG_MALFORMED')
  const result: TcloudContext = {file, contextName: name, organisation: ctx.context?.organisation}
  if (ctx.context?.api) {
    const server = cfg.servers?.find((s) => s.name === ctx.context?.api)
    if (!server) throw usageError(`tcloud config ${file}: context "${name}" refers to server "${ctx.context.api}", which is not defined`, undefined, 'CONFIG_MALFORMED')
    result.endpoint = server.api?.server
  }
  if (ctx.context?.user) {
    const user = cfg.users?.find((u) => u.name === ctx.context?.user)
    if (!user) throw usageError(`tcloud config ${file}: context "${name}" refers to user "${ctx.context.user}", which is not defined`, undefined, 'CONFIG_MALFORMED')
    Object.assign(result, {token: user.user?.token || undefined, accessToken: user.user?.accessToken || undefined, clientId: user.user?.clientID || undefined, clientSecret: user.user?.clientSecret || undefined})
  }
  return result
}

function lineOf(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++
  return line
}
