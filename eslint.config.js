// Lint = module boundaries first. Projects are tagged on two axes (project.json):
//   scope:  ingest | identity | normalization | policy | task | notifier | platform | shared
//   type:   app | domain | contract | infrastructure | testing
// The matrix below is complete: every tag says what it may depend on.
const nx = require('@nx/eslint-plugin');
const tseslint = require('typescript-eslint');

module.exports = [
  { ignores: ['dist/**', 'node_modules/**', '.clinmesh/**', '.nx/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': ['error', {
        enforceBuildableLibDependency: false,
        allow: [],
        depConstraints: [
          // Scope: a service may use its own scope and shared/platform libs, never another service.
          { sourceTag: 'scope:ingest', onlyDependOnLibsWithTags: ['scope:ingest', 'scope:shared', 'scope:platform'] },
          { sourceTag: 'scope:identity', onlyDependOnLibsWithTags: ['scope:identity', 'scope:shared', 'scope:platform'] },
          { sourceTag: 'scope:normalization', onlyDependOnLibsWithTags: ['scope:normalization', 'scope:shared', 'scope:platform'] },
          { sourceTag: 'scope:policy', onlyDependOnLibsWithTags: ['scope:policy', 'scope:shared', 'scope:platform'] },
          { sourceTag: 'scope:task', onlyDependOnLibsWithTags: ['scope:task', 'scope:shared', 'scope:platform'] },
          { sourceTag: 'scope:notifier', onlyDependOnLibsWithTags: ['scope:notifier', 'scope:shared', 'scope:platform'] },
          { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:platform', 'scope:shared'] },
          { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:platform'] },
          // Type: apps on top; domain libs depend only on domain/contract libs.
          { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:contract', 'type:infrastructure', 'type:testing'] },
          { sourceTag: 'type:infrastructure', onlyDependOnLibsWithTags: ['type:domain', 'type:contract', 'type:infrastructure', 'type:testing'] },
          { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:contract'] },
          { sourceTag: 'type:contract', onlyDependOnLibsWithTags: ['type:contract', 'type:domain'] },
          { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:contract', 'type:infrastructure', 'type:testing'] },
        ],
      }],
    },
  },
];
