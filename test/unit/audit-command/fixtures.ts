/** Builders for the audit-command tests: audit log pages as the API sends them, and a scratch directory. */
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach} from 'vitest'

/** The clock of testContext(): 2026-12-04T12:00:00Z; the default 7d window starts 2026-11-27T12:00:00Z. */
export const NOW = Date.parse('2026-12-04T12:00:00.000Z')
export const HOUR = 3_600_000
export const DAY = 24 * HOUR

let counter = 0

export interface ItemSpec {
  action?: string
  /** Hours before NOW. */
  ago: number
  key?: string
  user?: string
  status?: number
  context?: Record<string, unknown>
}

/** One audit log item in the API's shape (`user` becomes a user with subject, name and email). */
export const item = ({action = 'kms.encrypt', ago, key = 'kms-a', user = 'app', status = 200, context = {}}: ItemSpec): Record<string, unknown> => ({
  createdAt: new Date(NOW - ago * HOUR).toISOString(),
  eventID: `ev-${++counter}`,
  action,
  resourceType: 'kms_key',
  resourceIdentity: key,
  userIdentity: `uid-${user}`,
  user: {subject: `sub-${user}`, name: user, email: `${user}@example.com`},
  context: {status, ...context},
})

/** Items `ago` hours before NOW, one per entry, in the order given. */
export const items = (agos: number[], spec: Omit<ItemSpec, 'ago'> = {}) => agos.map((ago) => item({...spec, ago}))

export const page = (list: Array<Record<string, unknown>>, number: number, totalPages?: number) => ({
  items: list, page: number, itemsPerPage: 100, ...(totalPages === undefined ? {} : {totalPages, totalItems: totalPages * 100, totalCount: totalPages * 100}),
})

const dirs: string[] = []

export const scratchFile = async (name: string, content: string): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'kmsguard-audit-'))
  dirs.push(dir)
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true})))
})
