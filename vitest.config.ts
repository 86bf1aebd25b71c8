import {defineConfig} from 'vitest/config'

// Under CI a JSON report is written too, so .ci/run can print the plain "N passed, N failed" line.
const ci = Boolean(process.env.CI)

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    disableConsoleIntercept: true,
    reporters: ci ? ['default', ['json', {outputFile: '.vitest-results.json'}]] : ['default'],
  },
})
