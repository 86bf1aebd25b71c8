/** The reference scan itself throwing (not just unreadable sources) must not block a disable either. */
import nock from 'nock'
import {afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import {disableKey} from '../../../src/operations/disable.js'
import {testContext} from '../../helpers/context.js'
import {KEYS, REGION, apiKey, mockPreflight} from './helpers.js'

vi.mock('../../../src/guards/references.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../src/guards/references.js')>()),
  scanReferences: vi.fn(async () => {
    throw new Error('scanner crashed')
  }),
}))

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())

describe('disable when the scan throws', () => {
  it('warns that the impact is unknown and still disables', async () => {
    const key = apiKey()
    const scope = mockPreflight(key).post(`${KEYS}/${key.identity}/disable`).reply(200, {...key, status: 'disabled'})
    const out = await disableKey(testContext(), {region: REGION, key: key.slug, reason: 'INC-1', confirm: key.slug, dryRun: false})
    expect(scope.isDone()).toBe(true)
    const refs = out.guards.find((g) => g.guard === 'references')!
    expect(refs.outcome).toBe('warn')
    expect(refs.message).toContain('the reference scan failed (scanner crashed)')
  })

  it('an interrupt during the scan is not swallowed: nothing is posted', async () => {
    const key = apiKey()
    const scope = mockPreflight(key)
    const abort = new AbortController()
    const {scanReferences} = await import('../../../src/guards/references.js')
    vi.mocked(scanReferences).mockImplementationOnce(async () => {
      abort.abort(new Error('SIGINT'))
      throw new Error('aborted')
    })
    await expect(disableKey(testContext({signal: abort.signal}), {region: REGION, key: key.slug, reason: 'INC-1', confirm: key.slug, dryRun: false})).rejects.toThrow('aborted')
    expect(scope.isDone()).toBe(true)
  })
})

