#!/usr/bin/env node
// kmsguard entry point. `--version` and help are answered by the fast path (bin/fast-path.js) without loading
// @oclif/core; everything else, and anything the fast path is unsure about, goes to oclif unchanged.
import {fastPath} from './fast-path.js'

const text = fastPath(process.argv.slice(2))
if (text === undefined) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
} else {
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error
  })
  process.stdout.write(text)
}
