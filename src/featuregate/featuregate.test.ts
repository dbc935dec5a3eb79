import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FeatureGate, parseBool, parseGateString, closestName, type FeatureSpec } from './index.js';
import { isAntreaError } from '../util/errors.js';

const specs: Record<string, FeatureSpec> = {
  AlphaOne: { default: false, stage: 'Alpha' },
  AlphaTwo: { default: false, stage: 'Alpha' },
  BetaOne: { default: true, stage: 'Beta' },
  GaOpen: { default: true, stage: 'GA' },
  GaLocked: { default: true, stage: 'GA', lockToDefault: true },
  Old: { default: false, stage: 'Deprecated' },
};

const gate = () => new FeatureGate(specs, { notImplemented: { Future: 'Future is not implemented here' } });

describe('defaults follow the stage', () => {
  test('Alpha is off, Beta and GA are on', () => {
    const g = gate();
    assert.equal(g.enabled('AlphaOne'), false);
    assert.equal(g.enabled('BetaOne'), true);
    assert.equal(g.enabled('GaOpen'), true);
    assert.equal(g.enabled('GaLocked'), true);
    assert.equal(g.enabled('Old'), false);
    assert.deepEqual(g.explicit(), {});
  });

  test('enabled() on an unregistered feature is a programming error', () => {
    assert.throws(() => gate().enabled('Nope'), (e: unknown) => isAntreaError(e, 'ERR_UNREGISTERED_GATE'));
  });
});

describe('setFromMap', () => {
  test('sets Alpha on and Beta off', () => {
    const g = gate();
    assert.deepEqual(g.setFromMap({ AlphaOne: true, BetaOne: false }), []);
    assert.equal(g.enabled('AlphaOne'), true);
    assert.equal(g.enabled('BetaOne'), false);
    assert.deepEqual(g.explicit(), { AlphaOne: true, BetaOne: false });
  });

  test('a locked GA feature cannot be turned off, and nothing else is applied', () => {
    const g = gate();
    const problems = g.setFromMap({ AlphaOne: true, GaLocked: false });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.code, 'ERR_LOCKED_GATE');
    assert.equal(problems[0]?.gate, 'GaLocked');
    assert.equal(problems[0]?.message, 'cannot set feature gate GaLocked to false, feature is locked to true');
    assert.equal(g.enabled('AlphaOne'), false, 'all-or-nothing');
  });

  test('setting a locked feature to its default is allowed, with the GA warning', () => {
    const problems = gate().setFromMap({ GaLocked: true });
    assert.deepEqual(problems.map((p) => [p.severity, p.code]), [['warning', 'WARN_GA_GATE']]);
  });

  test('an unlocked GA feature may be set and warns', () => {
    const g = gate();
    const problems = g.setFromMap({ GaOpen: false });
    assert.deepEqual(problems.map((p) => p.code), ['WARN_GA_GATE']);
    assert.equal(g.enabled('GaOpen'), false);
  });

  test('a deprecated feature set explicitly warns', () => {
    const g = gate();
    const problems = g.setFromMap({ Old: true });
    assert.deepEqual(problems.map((p) => [p.severity, p.code, p.gate]), [['warning', 'WARN_DEPRECATED_GATE', 'Old']]);
    assert.equal(g.enabled('Old'), true);
  });

  test('unknown names are errors that name the gate and suggest a fix', () => {
    const problems = gate().setFromMap({ alphaone: true, Zzzzzzzz: false });
    assert.deepEqual(problems.map((p) => [p.code, p.gate]), [['ERR_UNKNOWN_GATE', 'alphaone'], ['ERR_UNKNOWN_GATE', 'Zzzzzzzz']]);
    assert.match(problems[0]?.message ?? '', /unrecognized feature gate: alphaone \(did you mean AlphaOne\?\)/);
    assert.equal(problems[1]?.message, 'unrecognized feature gate: Zzzzzzzz');
  });

  test('every problem is reported, not only the first', () => {
    const problems = gate().setFromMap({ Nope: true, GaLocked: false, BetaOne: 'yes' });
    assert.deepEqual(problems.map((p) => p.code).sort(), ['ERR_INVALID_GATE_VALUE', 'ERR_LOCKED_GATE', 'ERR_UNKNOWN_GATE']);
  });

  test('non-boolean values are errors naming the gate and the value', () => {
    for (const [value, shown] of [['yes', '"yes"'], ['true', '"true"'], [1, '1'], [null, 'an empty value'], [{}, 'a mapping']] as const) {
      const problems = gate().setFromMap({ AlphaOne: value });
      assert.equal(problems.length, 1);
      assert.equal(problems[0]?.code, 'ERR_INVALID_GATE_VALUE');
      assert.equal(problems[0]?.message, `feature gate AlphaOne must be true or false, not ${shown}`);
    }
  });

  test('a gate known but not implemented gets its own error', () => {
    const problems = gate().setFromMap({ Future: true });
    assert.deepEqual(problems.map((p) => [p.code, p.message]), [['ERR_GATE_NOT_IMPLEMENTED', 'Future is not implemented here']]);
  });

  test('AllAlpha sets every Alpha feature not set explicitly, whatever the order', () => {
    for (const values of [{ AllAlpha: true, AlphaTwo: false }, { AlphaTwo: false, AllAlpha: true }]) {
      const g = gate();
      assert.deepEqual(g.setFromMap(values), []);
      assert.equal(g.enabled('AlphaOne'), true);
      assert.equal(g.enabled('AlphaTwo'), false);
      assert.equal(g.enabled('BetaOne'), true);
    }
  });

  test('AllBeta=false turns Beta features off', () => {
    const g = gate();
    g.setFromMap({ AllBeta: false });
    assert.equal(g.enabled('BetaOne'), false);
    assert.equal(g.enabled('GaOpen'), true);
  });

  test('later calls add to earlier ones', () => {
    const g = gate();
    g.setFromMap({ AlphaOne: true });
    g.setFromMap({ BetaOne: false });
    assert.deepEqual(g.explicit(), { AlphaOne: true, BetaOne: false });
  });

  test('copy() is independent', () => {
    const g = gate();
    g.setFromMap({ AlphaOne: true });
    const c = g.copy();
    c.setFromMap({ AlphaOne: false });
    assert.equal(g.enabled('AlphaOne'), true);
    assert.equal(c.enabled('AlphaOne'), false);
  });
});

describe('--feature-gates strings', () => {
  test('parses with trimming and empty items skipped', () => {
    const g = gate();
    assert.deepEqual(g.setFromString(' AlphaOne = true ,, BetaOne=False,'), []);
    assert.equal(g.enabled('AlphaOne'), true);
    assert.equal(g.enabled('BetaOne'), false);
  });

  test('a missing value and a non-boolean value are errors naming the gate', () => {
    const { problems } = parseGateString('AlphaOne,BetaOne=maybe');
    assert.deepEqual(problems.map((p) => [p.gate, p.message]), [
      ['AlphaOne', 'missing bool value for AlphaOne'],
      ['BetaOne', 'invalid value of BetaOne=maybe: must be true or false'],
    ]);
    assert.deepEqual(parseGateString(' =true').problems.map((p) => p.message), ['missing gate name before "=true"'], 'an empty name is not a gate called ""');
  });

  test('accepts exactly the spellings of Go strconv.ParseBool', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseBool(t), true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseBool(f), false);
    for (const bad of ['yes', 'no', 'on', 'tRUE', '', ' true']) assert.equal(parseBool(bad), undefined);
  });

  test('property: a formatted map parses back to itself', () => {
    const names = Object.keys(specs);
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.boolean()), (values) => {
        const text = Object.entries(values).map(([k, v]) => `${k}=${v}`).join(',');
        const parsed = parseGateString(text);
        assert.deepEqual(parsed.problems, []);
        assert.deepEqual(parsed.values, { ...values });
      }),
    );
  });

  test('property: setting any map either applies all of it or none of it', () => {
    const names = [...Object.keys(specs), 'Unknown'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.boolean()), (values) => {
        const g = gate();
        const errors = g.setFromMap(values).filter((p) => p.severity === 'error');
        if (errors.length > 0) assert.deepEqual(g.explicit(), {});
        else for (const [k, v] of Object.entries(values)) assert.equal(g.enabled(k), v);
        // Locked features never leave their default.
        assert.equal(g.enabled('GaLocked'), true);
      }),
    );
  });
});

test('knownFeatures hides GA and Deprecated features, as Kubernetes does', () => {
  assert.deepEqual(gate().knownFeatures(), [
    'AllAlpha=true|false (ALPHA - default=false)',
    'AllBeta=true|false (BETA - default=false)',
    'AlphaOne=true|false (ALPHA - default=false)',
    'AlphaTwo=true|false (ALPHA - default=false)',
    'BetaOne=true|false (BETA - default=true)',
  ]);
});

test('closestName', () => {
  assert.equal(closestName('Egres', ['Egress', 'Traceflow']), 'Egress');
  assert.equal(closestName('traceflow', ['Egress', 'Traceflow']), 'Traceflow');
  assert.equal(closestName('Multicluster', ['Egress', 'Traceflow']), undefined);
});

test('the meta-gate names are reserved', () => {
  assert.throws(() => new FeatureGate({ AllAlpha: { default: false, stage: 'Alpha' } }), (e: unknown) => isAntreaError(e, 'ERR_RESERVED_GATE'));
});
