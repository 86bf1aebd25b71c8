/**
 * Fingerprints and wiping for key material. A fingerprint is what kmsguard may print or journal in place of
 * the bytes themselves; zeroize wipes a buffer that held secret bytes once it is no longer needed.
 */
import {createHash} from 'node:crypto'

/** `sha256:<64 lowercase hex digits>` of the bytes. */
export const fingerprint = (material: Buffer): string => `sha256:${createHash('sha256').update(material).digest('hex')}`

/** Overwrite every byte of `buf` (or of the view it is) with zero. */
export const zeroize = (buf: Buffer): void => {
  buf.fill(0)
}
