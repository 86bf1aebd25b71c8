import {describe, expect, it} from 'vitest'
import {KmsGuardError} from '../../../src/cli/errors.js'
import {findKeyType} from '../../../src/crypto/material.js'
import {createPolicy, enforcePolicy, parseRotationDays, rotationAllowedVerdict, rotationOffVerdict} from '../../../src/guards/policy.js'
import {KmsKey} from '../../../src/api/schemas.js'
import {apiKey} from './helpers.js'

const type = (name: string) => findKeyType(name)!
const base = {labels: {purpose: 'secrets'}, allowExport: false, noRotation: false}
const key = (over: Parameters<typeof apiKey>[0] = {}) => KmsKey.parse(apiKey(over))
const thrown = (fn: () => unknown): KmsGuardError => {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(KmsGuardError)
    return error as KmsGuardError
  }
  throw new Error('expected a throw')
}

describe('parseRotationDays', () => {
  it.each(['0', '3651', '-1', 'abc', '1.5', '', '90d', 0, 3651])('refuses %j with a usage error naming the range', (value) => {
    const err = thrown(() => parseRotationDays(value, '--rotation-period'))
    expect(err.exitCode).toBe(2)
    expect(err.code).toBe('INVALID_ROTATION_PERIOD')
    expect(err.message).toContain('--rotation-period must be a whole number of days from 1 to 3650')
  })

  it('accepts the bounds and passes undefined through', () => {
    expect(parseRotationDays('1', '--schedule')).toBe(1)
    expect(parseRotationDays(' 3650 ', '--schedule')).toBe(3650)
    expect(parseRotationDays(180, '--schedule')).toBe(180)
    expect(parseRotationDays(undefined, '--schedule')).toBeUndefined()
  })
})

describe('createPolicy', () => {
  it('turns automatic rotation on for symmetric keys: flag, else kmsguard config, else 90 days', () => {
    expect(createPolicy({...base, keyType: type('aes256-gcm96')}).rotation).toEqual({keyRotationEnabled: true, rotationPeriodInDays: 90})
    expect(createPolicy({...base, keyType: type('chacha20-poly1305'), defaultRotationDays: 30}).rotation).toEqual({keyRotationEnabled: true, rotationPeriodInDays: 30})
    expect(createPolicy({...base, keyType: type('aes128-gcm96'), defaultRotationDays: 30, rotationPeriodDays: 7}).rotation).toEqual({keyRotationEnabled: true, rotationPeriodInDays: 7})
  })

  it('--no-rotation on a symmetric key fails as a flag problem without --reason, and is a journaled override with one', () => {
    const without = createPolicy({...base, keyType: type('aes256-gcm96'), noRotation: true})
    const rule = without.guards.find((g) => g.details?.rule === 'rotation')!
    expect(rule.outcome).toBe('fail')
    expect(rule.details?.flag).toBe('--reason')
    const withReason = createPolicy({...base, keyType: type('aes256-gcm96'), noRotation: true, reason: 'legacy app pins v1'})
    expect(withReason.rotation).toEqual({keyRotationEnabled: false})
    expect(withReason.overrides).toEqual([{flag: '--no-rotation', reason: 'legacy app pins v1'}])
    expect(withReason.guards.find((g) => g.details?.rule === 'rotation')?.outcome).toBe('warn')
  })

  it('asymmetric and HMAC keys do not rotate by default, may on request, and asymmetric rotation warns about the public key', () => {
    const off = createPolicy({...base, keyType: type('ecdsa-p256')})
    expect(off.rotation).toEqual({keyRotationEnabled: false})
    expect(off.guards.find((g) => g.details?.rule === 'rotation')?.message).toContain('on by default only for symmetric keys')
    const on = createPolicy({...base, keyType: type('ecdsa-p256'), rotationPeriodDays: 365})
    expect(on.rotation).toEqual({keyRotationEnabled: true, rotationPeriodInDays: 365})
    const warn = on.guards.find((g) => g.details?.rule === 'rotation')!
    expect(warn.outcome).toBe('warn')
    expect(warn.message).toMatch(/new public key.*DNSSEC DS/)
    const hmac = createPolicy({...base, keyType: type('hmac-sha256'), rotationPeriodDays: 30})
    expect(hmac.rotation).toEqual({keyRotationEnabled: true, rotationPeriodInDays: 30})
    expect(hmac.guards.find((g) => g.details?.rule === 'rotation')?.outcome).toBe('pass')
    expect(createPolicy({...base, keyType: type('rsa-2048'), noRotation: true}).guards.every((g) => g.outcome !== 'fail')).toBe(true)
  })

  it('--allow-export needs --reason and then warns that the choice is break-glass and permanent', () => {
    const without = createPolicy({...base, keyType: type('aes256-gcm96'), allowExport: true})
    const rule = without.guards.find((g) => g.details?.rule === 'export')!
    expect(rule.outcome).toBe('fail')
    expect(rule.message).toContain('--allow-export needs --reason')
    const withReason = createPolicy({...base, keyType: type('aes256-gcm96'), allowExport: true, reason: 'escrow CHG-1'})
    const warn = withReason.guards.find((g) => g.details?.rule === 'export')!
    expect(warn.outcome).toBe('warn')
    expect(warn.message).toMatch(/break-glass.*only at creation and never changed afterwards/)
    expect(withReason.exportAllowed).toBe(true)
    expect(withReason.overrides).toContainEqual({flag: '--allow-export', reason: 'escrow CHG-1'})
  })

  it('warns when there is no purpose label and passes when there is one', () => {
    expect(createPolicy({...base, labels: {team: 'x'}, keyType: type('aes256-gcm96')}).guards.find((g) => g.details?.rule === 'purpose-label')?.outcome).toBe('warn')
    expect(createPolicy({...base, keyType: type('aes256-gcm96')}).guards.find((g) => g.details?.rule === 'purpose-label')?.outcome).toBe('pass')
  })
})

describe('enforcePolicy', () => {
  it('is silent when nothing failed', () => {
    expect(() => enforcePolicy(createPolicy({...base, keyType: type('aes256-gcm96')}).guards)).not.toThrow()
  })

  it('makes flag-only failures exit 2 and carries every verdict', () => {
    const verdict = createPolicy({...base, keyType: type('aes256-gcm96'), allowExport: true, noRotation: true})
    const err = thrown(() => enforcePolicy(verdict.guards))
    expect(err.exitCode).toBe(2)
    expect(err.code).toBe('POLICY_FLAGS')
    expect(err.message).toContain('--allow-export needs --reason')
    expect(err.message).toContain('--no-rotation')
    expect(err.guards).toHaveLength(3)
  })

  it('makes a policy refusal exit 3 and keeps the prior verdicts first', () => {
    const prior = [{guard: 'region' as const, outcome: 'pass' as const, message: 'nl-01: KMS available'}]
    const err = thrown(() => enforcePolicy([rotationAllowedVerdict(key({imported: true, allowRotation: false}))], prior))
    expect(err.exitCode).toBe(3)
    expect(err.code).toBe('ROTATION_NOT_ALLOWED')
    expect(err.guards.map((g) => g.guard)).toEqual(['region', 'policy'])
  })
})

describe('rotation verdicts on existing keys', () => {
  it('refuses an imported key without allowRotation, warns when the API does not say, passes otherwise', () => {
    const refused = rotationAllowedVerdict(key({imported: true, allowRotation: false}))
    expect(refused.outcome).toBe('fail')
    expect(refused.message).toContain('can never rotate')
    expect(rotationAllowedVerdict(key({imported: true})).outcome).toBe('warn')
    expect(rotationAllowedVerdict(key({imported: true, allowRotation: true})).outcome).toBe('pass')
    expect(rotationAllowedVerdict(key()).outcome).toBe('pass')
  })

  it('turning rotation off needs a reason for symmetric keys only', () => {
    expect(rotationOffVerdict(key(), undefined, '--no-schedule')).toMatchObject({outcome: 'fail', details: {flag: '--reason'}})
    expect(rotationOffVerdict(key(), 'frozen', '--no-schedule').outcome).toBe('warn')
    expect(rotationOffVerdict(key({keyType: 'ed25519'}), undefined, '--no-schedule').outcome).toBe('pass')
  })
})
