// Lint: ESLint's and typescript-eslint's recommended rules; formatting is prettier's
// (npm run lint runs both). Biome's platform binaries are not all on the registry mirror
// this project installs from, which breaks `npm ci`, so the linter is pure JavaScript.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['**/dist/**', 'coverage/**', '.cache/**', 'packages/audit/test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // TypeScript's own CommonJS syntax (`import x = require()`) for the CommonJS entry.
    files: ['**/*.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Type tests state expressions and declare values only to inspect their types.
    files: ['test/**/*.test-d.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
)
