import {describe, expect, it} from 'vitest'
import {ExitCode} from '../../../src/cli/errors.js'
import {AuditEventSchema, parseAuditFile, principalLabelOf, principalNamesOf, principalOf} from '../../../src/audit/events.js'

const log = {
  createdAt: '2026-11-30T10:00:00Z',
  eventID: 'e1',
  action: 'kms.export',
  resourceType: 'kms_key',
  resourceIdentity: 'kms-abc123',
  organizationIdentity: 'org-1',
  description: null,
  user: {subject: 'sub-1', name: 'Alice', email: 'alice@example.com', createdAt: '2025-01-01T00:00:00Z'},
  context: {status: 200, keyVersion: '2', client_ip: '203.0.113.9'},
}

describe('AuditEventSchema', () => {
  it('keeps unknown fields and accepts nulls for optional ones', () => {
    const parsed = AuditEventSchema.parse({...log, serviceAccount: null, impersonator: {subject: 'x'}})
    expect(parsed).toMatchObject({organizationIdentity: 'org-1', impersonator: {subject: 'x'}})
  })

  it('requires a parsable createdAt, an eventID and an action', () => {
    expect(AuditEventSchema.safeParse({...log, createdAt: 'yesterday'}).success).toBe(false)
    expect(AuditEventSchema.safeParse({...log, eventID: undefined}).success).toBe(false)
    expect(AuditEventSchema.safeParse({...log, action: 5}).success).toBe(false)
  })
})

describe('principalOf', () => {
  const base = {createdAt: log.createdAt, eventID: 'e', action: 'kms.decrypt'}
  it.each([
    [{user: {subject: 'sub-1', email: 'a@x'}, userIdentity: 'uid-1'}, 'sub-1'],
    [{user: {email: 'a@x'}, userIdentity: 'uid-1'}, 'a@x'],
    [{userIdentity: 'uid-1', serviceAccount: {identity: 'sa-1'}}, 'uid-1'],
    [{serviceAccount: {identity: 'sa-1', slug: 'ci'}}, 'sa-1'],
    [{serviceAccountIdentity: 'sa-2'}, 'sa-2'],
    [{user: {subject: ''}}, 'unknown'],
    [{}, 'unknown'],
  ])('%j → %s', (fields, expected) => {
    expect(principalOf(AuditEventSchema.parse({...base, ...fields}))).toBe(expected)
  })

  it('names and label cover emails and service-account slugs', () => {
    const sa = AuditEventSchema.parse({...base, serviceAccount: {identity: 'sa-1', slug: 'ci-deployer'}})
    expect(principalNamesOf(sa)).toEqual(expect.arrayContaining(['sa-1', 'ci-deployer']))
    expect(principalLabelOf(sa)).toBe('ci-deployer')
    expect(principalLabelOf(AuditEventSchema.parse(log))).toBe('alice@example.com')
  })
})

describe('parseAuditFile', () => {
  it('reads a plain JSON array', () => {
    const events = parseAuditFile(JSON.stringify([log, {...log, eventID: 'e2'}]), 'a.json')
    expect(events.map((e) => e.eventID)).toEqual(['e1', 'e2'])
  })

  it('reads the tcloud export object', () => {
    const file = {
      exportedAt: '2026-12-01T00:00:00Z',
      timeRange: {type: 'duration', start: '2026-11-24T00:00:00Z', end: '2026-12-01T00:00:00Z', since: '7d'},
      totalLogs: 1,
      logs: [log],
      chunk: {index: 1, total: 1},
    }
    expect(parseAuditFile(JSON.stringify(file), 'b.json')).toEqual([expect.objectContaining({eventID: 'e1', action: 'kms.export'})])
  })

  it.each([
    ['not JSON', '{nope', /bad\.json: not valid JSON/],
    ['an object without logs', JSON.stringify({items: [log]}), /bad\.json: not an audit export/],
    ['logs that are not an array', JSON.stringify({logs: {}}), /bad\.json: not an audit export/],
    ['a string', '"hello"', /bad\.json: not an audit export/],
    ['null', 'null', /bad\.json: not an audit export/],
  ])('rejects %s naming the file', (_label, text, message) => {
    expect(() => parseAuditFile(text, 'bad.json')).toThrow(message)
    expect(() => parseAuditFile(text, 'bad.json')).toThrow(expect.objectContaining({exitCode: ExitCode.USAGE}))
  })

  it('names the failing item index in either shape', () => {
    expect(() => parseAuditFile(JSON.stringify([log, {...log, createdAt: 'later'}]), 'a.json')).toThrow(/a\.json: item 1 is not an audit log \(createdAt: not a timestamp\)/)
    expect(() => parseAuditFile(JSON.stringify({logs: [log, log, {action: 'kms.decrypt'}]}), 'b.json')).toThrow(/b\.json: logs\[2\] is not an audit log/)
    expect(() => parseAuditFile(JSON.stringify([42]), 'c.json')).toThrow(/c\.json: item 0 is not an audit log/)
  })
})
