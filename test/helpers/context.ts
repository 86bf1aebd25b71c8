/**
 * Test scaffolding for operations: a real API client pointed at a nock-able origin, the real non-interactive
 * confirmer, silent progress, and an empty journal record to inspect afterwards.
 */
import {createApi, type Api} from '../../src/api/index.js'
import type {ResolvedConfig} from '../../src/config/resolve.js'
import type {OperationContext} from '../../src/operations/context.js'
import {PromptConfirmer} from '../../src/ui/confirm.js'
import {silentProgress} from '../../src/ui/progress.js'

export const ORIGIN = 'https://api.kmsguard.test'
export const PAT = 'tc_pat_unit_test_token_0123456789'

export function testApi(overrides: {project?: string; maxRetries?: number} = {}): Api {
  return createApi({endpoint: ORIGIN, organisation: 'demo', project: overrides.project, credentials: {kind: 'pat', token: PAT}, userAgent: 'kmsguard-test', maxRetries: overrides.maxRetries ?? 2, retryBaseMs: 1, retryMaxMs: 5})
}

export function testConfig(): ResolvedConfig {
  return {endpoint: {value: ORIGIN, source: 'test'}, organisation: {value: 'demo', source: 'test'}, concurrency: {value: 4, source: 'test'}, timeoutSeconds: 60, settings: {}, credentials: {value: {kind: 'pat', token: PAT}, source: 'test'}}
}

export function testContext(overrides: Partial<OperationContext> = {}): OperationContext {
  return {
    api: overrides.api ?? testApi(),
    config: testConfig(),
    confirm: new PromptConfirmer(false),
    progress: silentProgress,
    signal: new AbortController().signal,
    journal: {},
    concurrency: 4,
    now: () => new Date('2026-12-04T12:00:00Z'),
    ...overrides,
  }
}
