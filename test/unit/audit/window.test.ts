import {describe, expect, it} from 'vitest'
import {isNewestFirst, pageIsPastWindow} from '../../../src/audit/window.js'

const at = (...times: string[]) => times.map((createdAt) => ({createdAt}))

describe('isNewestFirst', () => {
  it('accepts non-increasing timestamps, including ties and single items', () => {
    expect(isNewestFirst(at('2026-12-02T00:00:00Z', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'))).toBe(true)
    expect(isNewestFirst(at('2026-12-02T00:00:00Z'))).toBe(true)
    expect(isNewestFirst([])).toBe(true)
  })

  it('rejects oldest-first or unparsable pages', () => {
    expect(isNewestFirst(at('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z'))).toBe(false)
    expect(isNewestFirst(at('2026-12-02T00:00:00Z', 'soon'))).toBe(false)
  })
})

describe('pageIsPastWindow', () => {
  const from = new Date('2026-12-01T00:00:00Z')
  it('is true only when every item is older than from', () => {
    expect(pageIsPastWindow(at('2026-11-30T23:59:59Z', '2026-11-30T00:00:00Z'), from)).toBe(true)
    expect(pageIsPastWindow(at('2026-12-01T00:00:00Z', '2026-11-30T00:00:00Z'), from)).toBe(false)
    expect(pageIsPastWindow(at('2026-12-03T00:00:00Z'), from)).toBe(false)
  })

  it('treats an empty page as the end', () => {
    expect(pageIsPastWindow([], from)).toBe(true)
  })
})
