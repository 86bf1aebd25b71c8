/** The export binding: label syntax, digest, and every way readBinding notices an inconsistent or edited binding. */
import {describe, expect, it} from 'vitest'
import {bindingDigest, bindingMetadata, labelValue, readBinding, shellCommand} from '../../../src/operations/binding.js'
import {standardBinding} from './helpers.js'

describe('binding', () => {
  it('round-trips', () => {
    const b = standardBinding({scope: 'project', project: 'prj-1', keyVersion: 12})
    expect(readBinding(bindingMetadata(b))).toEqual({ok: true, binding: b})
  })

  it('keeps labels conservative: long or unusual values are hashed, annotations keep them verbatim', () => {
    const b = standardBinding({requester: 'auth0|5f1c2d@example.test', policy: 'p'.repeat(100)})
    const {labels, annotations} = bindingMetadata(b)
    expect(labels['kmsguard-requester']).toMatch(/^h-[0-9a-f]{40}$/)
    expect(labels['kmsguard-policy']).toMatch(/^h-[0-9a-f]{40}$/)
    expect(annotations['kmsguard-requester']).toBe('auth0|5f1c2d@example.test')
    expect(readBinding({labels, annotations})).toEqual({ok: true, binding: b})
    expect(labelValue('kms-abc')).toBe('kms-abc')
  })

  it('the digest covers every kmsguard annotation and only those', () => {
    const {annotations} = bindingMetadata(standardBinding())
    expect(bindingDigest({...annotations, other: 'x'})).toBe(annotations['kmsguard-binding-digest'])
    expect(bindingDigest({...annotations, 'kmsguard-extra': 'x'})).not.toBe(annotations['kmsguard-binding-digest'])
  })

  it.each([
    ['an edited annotation', (m: ReturnType<typeof bindingMetadata>) => ({...m, annotations: {...m.annotations, 'kmsguard-region': 'nl-02'}}), /digest/],
    ['an added kmsguard annotation', (m: ReturnType<typeof bindingMetadata>) => ({...m, annotations: {...m.annotations, 'kmsguard-note': 'x'}}), /digest/],
    ['an edited label', (m: ReturnType<typeof bindingMetadata>) => ({...m, labels: {...m.labels, 'kmsguard-region': 'nl-02'}}), /labels disagree/],
    ['a missing field', (m: ReturnType<typeof bindingMetadata>) => {
      const {'kmsguard-policy': _p, ...annotations} = m.annotations
      return {...m, annotations}
    }, /lacks kmsguard-policy/],
    ['a missing operation label', (m: ReturnType<typeof bindingMetadata>) => ({...m, labels: {}}), /no kmsguard export binding/],
  ])('notices %s', (_name, edit, message) => {
    const read = readBinding(edit(bindingMetadata(standardBinding())))
    expect(read.ok).toBe(false)
    expect(read.ok ? '' : read.message).toMatch(message)
  })

  it('a recomputed digest over a malformed version is still refused', () => {
    const m = bindingMetadata(standardBinding())
    const annotations: Record<string, string> = {...m.annotations, 'kmsguard-key-version': 'latest'}
    annotations['kmsguard-binding-digest'] = bindingDigest(annotations)
    const read = readBinding({labels: {...m.labels, 'kmsguard-key-version': 'latest'}, annotations})
    expect(read.ok ? '' : read.message).toMatch(/not a version number/)
  })

  it('quotes what a shell would split', () => {
    expect(shellCommand(['kmsguard', 'approve', 'iamae-1', '--org', 'my org', "it's"])).toBe("kmsguard approve iamae-1 --org 'my org' 'it'\\''s'")
  })
})
