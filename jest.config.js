// ESM TypeScript through ts-jest; `.js` suffixes in imports map back to the `.ts` sources.
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    // GitHub's parser imports its schemas as bare JSON modules (see the fixture for why).
    '^\\.\\./(action|workflow)-v1\\.0\\.min\\.json$': '<rootDir>/__tests__/__fixtures__/github-schemas/$1-schema.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1'
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }]
  },
  testEnvironment: 'node'
}

export default {
  // Runs the IAM completeness test after the end-to-end scenarios whose API calls it reads.
  testSequencer: '<rootDir>/__tests__/e2e/call-log/sequencer.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'] },
    { ...common, displayName: 'sandbox', testMatch: ['<rootDir>/__tests__/sandbox/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/__tests__/e2e/call-log/record-calls.ts']
    },
    { ...common, displayName: 'publish', testMatch: ['<rootDir>/__tests__/publish/**/*.test.ts'] }
  ]
}
