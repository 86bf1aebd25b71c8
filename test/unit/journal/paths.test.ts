import {homedir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {defaultJournalPath} from '../../../src/journal/paths.js'

describe('defaultJournalPath', () => {
  it('prefers KMSGUARD_JOURNAL', () => {
    expect(defaultJournalPath({KMSGUARD_JOURNAL: '/srv/j.jsonl', XDG_STATE_HOME: '/state', HOME: '/home/a'})).toBe('/srv/j.jsonl')
  })

  it('uses XDG_STATE_HOME when set and absolute', () => {
    expect(defaultJournalPath({XDG_STATE_HOME: '/state', HOME: '/home/a'})).toBe(join('/state', 'kmsguard', 'journal.jsonl'))
  })

  it('falls back to ~/.local/state, ignoring empty and relative values', () => {
    const expected = join('/home/a', '.local', 'state', 'kmsguard', 'journal.jsonl')
    expect(defaultJournalPath({HOME: '/home/a'})).toBe(expected)
    expect(defaultJournalPath({KMSGUARD_JOURNAL: '', XDG_STATE_HOME: '', HOME: '/home/a'})).toBe(expected)
    expect(defaultJournalPath({XDG_STATE_HOME: 'relative/state', HOME: '/home/a'})).toBe(expected)
  })

  it('uses the OS home directory when HOME is unset', () => {
    expect(defaultJournalPath({})).toBe(join(homedir(), '.local', 'state', 'kmsguard', 'journal.jsonl'))
  })
})
