/** The operator journal: append-only, hash-chained record of every mutating command and refusal. */
export {defaultJournalPath} from './paths.js'
export {GENESIS_PREV, JournalEntrySchema, JournalRecordSchema, journalGuards, type JournalEntry, type JournalRecord} from './schema.js'
export {assertNoSecretMaterial, withholdSecretLike} from './secrets.js'
export {appendJournal, consumeApproval, isApprovalConsumed, readJournal} from './store.js'
export {verifyJournal, type VerifyResult} from './verify.js'
