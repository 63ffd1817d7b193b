import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', '.tap/**', 'coverage/**']
  }),
  {
    // A TypeBox schema and its Static type share one name on purpose (schema first, one source
    // of truth); the TypeScript compiler already rejects real redeclarations.
    files: ['**/*.ts'],
    rules: { '@typescript-eslint/no-redeclare': 'off' }
  }
]
