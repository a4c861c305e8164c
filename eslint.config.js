// ESLint (flat config) with typescript-eslint: the recommended rules of both, over the
// sources, tests, benchmarks and scripts. Style (layout, quotes, widths) is Prettier's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'report/**',
      'docs/api/**',
      'bench/results/**',
      'coverage/**',
      'assembly/**', // AssemblyScript: its own compiler checks it
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser, ...globals.worker },
    },
    rules: {
      // a leading underscore marks a binding kept for its position (destructuring, callbacks)
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
      // a closure declared before the value it reads is assigned (the wasm loader's memory)
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // tests read untyped JSON (Vega-Lite specs, CLI output) field by field
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
