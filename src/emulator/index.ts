/**
 * Public entry of the kmsguard emulator: a local, Thalassa-compatible API (KMS, Secrets Manager, DNS/DNSSEC,
 * projects, IAM access elevations, audit, identity, OIDC client credentials) for rehearsals, tests and benchmarks.
 * `commands/emulator.ts` and the `demo` command wrap startEmulator(); tests use the handle directly.
 */
export {startEmulator, type EmulatorHandle, type EmulatorOptions, type RecordedRequest} from './server.js'
export {DEMO, type ScaleSeedOptions, type SeedOption} from './seed.js'
export {FAULT_KINDS, type FaultKind, type FaultOptions} from './faults.js'
export type {MovableClock} from './clock.js'
export type {EmulatorState, KeyType, KeyStatus, StoredKey, StoredSecret, StoredZone, StoredElevation, AuditEvent} from './state.js'
