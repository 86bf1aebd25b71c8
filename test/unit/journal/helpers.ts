/** Shared fixtures for the journal tests: a scratch directory and a realistic record. */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach} from 'vitest'
import type {JournalRecord} from '../../../src/journal/schema.js'

const dirs: string[] = []

/** A fresh directory removed after the current test. */
export const scratchDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'kmsguard-journal-'))
  dirs.push(dir)
  return dir
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true})))
})

export const sampleRecord = (overrides: Partial<JournalRecord> = {}): JournalRecord => ({
  operator: {subject: 'user-1', email: 'ops@example.com'},
  endpoint: 'https://api.thalassa.cloud',
  org: 'demo',
  region: 'nl-01',
  command: 'delete',
  dryRun: false,
  key: {identity: 'kms-abc123', slug: 'billing-db', name: 'billing db'},
  guards: [{guard: 'references', outcome: 'pass', message: 'no secrets or DNSSEC zones use this key'}],
  confirmation: 'typed',
  result: {status: 'ok', exitCode: 0, summary: 'deletion scheduled'},
  ...overrides,
})
