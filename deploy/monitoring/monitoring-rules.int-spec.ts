import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Source folder of the rules (this spec runs compiled from dist/deploy/monitoring). */
const RULES_DIR = join(__dirname, '..', '..', '..', 'deploy', 'monitoring', 'prometheus');
const PROMTOOL = '/usr/bin/promtool';

const promtool = (cwd: string, ...args: string[]) => {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('monitoring rules (promtool, Debian prometheus package)', () => {
  it('the rules are valid and their unit tests pass', () => {
    const check = promtool(RULES_DIR, 'check', 'rules', 'clinmesh.rules.yml');
    assert.equal(check.status, 0, check.out);
    const test = promtool(RULES_DIR, 'test', 'rules', 'clinmesh.rules.test.yml');
    assert.equal(test.status, 0, test.out);
  });

  it('the rule tests fail when a rule is wrong (stat lag threshold raised)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clinmesh-rules-'));
    try {
      copyFileSync(join(RULES_DIR, 'clinmesh.rules.test.yml'), join(dir, 'clinmesh.rules.test.yml'));
      const rules = readFileSync(join(RULES_DIR, 'clinmesh.rules.yml'), 'utf8');
      const broken = rules.replace('clinmesh:consumer_lag:sum_by_tier{tier="stat"} > 50', 'clinmesh:consumer_lag:sum_by_tier{tier="stat"} > 5000');
      assert.notEqual(broken, rules, 'the mutation applies');
      writeFileSync(join(dir, 'clinmesh.rules.yml'), broken);
      const test = promtool(dir, 'test', 'rules', 'clinmesh.rules.test.yml');
      assert.notEqual(test.status, 0, 'promtool must report the missing alert');
      assert.match(test.out, /ClinmeshConsumerLagStat/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
