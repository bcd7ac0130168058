// packaging/ram-policy.json: the node role's least-privilege RAM policy, as the README lists it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT } from '../helpers/run-provider.ts';

const ACTIONS = ['cr:GetAuthorizationToken', 'cr:ListInstance', 'cr:ListInstanceEndpoint', 'cr:PullRepository'];

it('is a RAM policy document (Version "1") allowing exactly the four CR actions', () => {
  const policy = JSON.parse(readFileSync(join(REPO_ROOT, 'packaging', 'ram-policy.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(policy).sort(), ['Statement', 'Version']);
  assert.equal(policy.Version, '1');
  assert.ok(Array.isArray(policy.Statement) && policy.Statement.length > 0);
  const actions: string[] = [];
  for (const s of policy.Statement as Record<string, unknown>[]) {
    assert.equal(s.Effect, 'Allow');
    assert.deepEqual(Object.keys(s).sort(), ['Action', 'Effect', 'Resource'], 'no Condition, no NotAction');
    assert.equal(s.Resource, '*');
    const a = s.Action;
    actions.push(...(Array.isArray(a) ? (a as string[]) : [a as string]));
  }
  assert.deepEqual(actions.sort(), [...ACTIONS].sort());
  assert.ok(!actions.some((a) => a.includes('*')), 'no wildcards');
});

it('is the policy the README shows', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const shown = /### RAM permissions[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(shown, 'README has a RAM permissions JSON block');
  assert.deepEqual(JSON.parse(shown), JSON.parse(readFileSync(join(REPO_ROOT, 'packaging', 'ram-policy.json'), 'utf8')));
});
