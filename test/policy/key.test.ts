import { describe, expect, it } from 'vitest';
import { parseKey } from '../../src/policy/assertion/key.js';

describe('assertion key grammar', () => {
  it('plain keys', () => {
    expect(parseKey('spec')).toMatchObject({ kind: 'plain', statement: 'spec', foreach: false, binding: undefined });
    expect(parseKey('~foo')).toMatchObject({ kind: 'plain', statement: '~foo', foreach: false });
  });

  it('foreach with and without a name', () => {
    expect(parseKey('~.containers')).toMatchObject({ foreach: true, foreachName: undefined, statement: 'containers', kind: 'plain' });
    expect(parseKey('~idx.containers')).toMatchObject({ foreach: true, foreachName: 'idx', statement: 'containers' });
    expect(parseKey('~.(spec.containers)')).toMatchObject({ foreach: true, kind: 'expression', statement: 'spec.containers' });
  });

  it('binding suffix; whitespace before -> stays in the statement', () => {
    expect(parseKey('(spec.x)->y')).toMatchObject({ kind: 'expression', statement: 'spec.x', binding: 'y' });
    expect(parseKey('(spec.x)-> y')).toMatchObject({ kind: 'expression', binding: 'y' });
    expect(parseKey('(spec.x) -> y')).toMatchObject({ kind: 'plain', statement: '(spec.x) ', binding: 'y' });
    expect(parseKey('~i.containers->all')).toMatchObject({ foreach: true, foreachName: 'i', statement: 'containers', binding: 'all' });
  });

  it('escapes', () => {
    expect(parseKey('\\(bar)\\')).toMatchObject({ kind: 'plain', escaped: true, statement: '(bar)' });
    expect(parseKey('\\(bar)\\->test')).toMatchObject({ kind: 'plain', statement: '(bar)', binding: 'test' });
    expect(parseKey('\\(bar)->test\\')).toMatchObject({ kind: 'plain', statement: '(bar)->test', binding: undefined });
    expect(parseKey('\\~foos\\')).toMatchObject({ kind: 'plain', statement: '~foos', foreach: false });
  });

  it('expressions must be wrapped whole; compiler prefixes', () => {
    expect(parseKey('(a) || (b)')).toMatchObject({ kind: 'expression', statement: 'a) || (b' });
    expect(parseKey('((a) || (b))')).toMatchObject({ kind: 'expression', statement: '(a) || (b)' });
    expect(parseKey('(jp;spec.x)')).toMatchObject({ kind: 'expression', compiler: 'jp', statement: 'spec.x' });
    expect(parseKey('(cel;object.x)')).toMatchObject({ compiler: 'cel', statement: 'object.x' });
    expect(parseKey('(foo;bar)')).toMatchObject({ compiler: 'foo', statement: 'bar' });
  });
});
