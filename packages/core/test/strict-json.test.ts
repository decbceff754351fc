import { describe, expect, it } from 'vitest';
import {
  MAX_JSON_NESTING_DEPTH,
  parseJsonObjectStrict,
  parseJsonObjectStrictWithSources,
  parseJsonStrict,
} from '../src/util/strict-json.js';

describe('parseJsonStrict', () => {
  it('parses like JSON.parse', () => {
    const text = '{"a":[1,2,{"b":"x\\"}{"}],"c":null,"d":true,"e":-1.5e3," ":{}}';
    expect(parseJsonStrict(text)).toEqual(JSON.parse(text));
    expect(parseJsonStrict('"just a string"')).toBe('just a string');
    expect(parseJsonStrict(' 42 ')).toBe(42);
    expect(parseJsonStrict('[]')).toEqual([]);
  });

  it('rejects a duplicate member at the top level', () => {
    expect(() => parseJsonStrict('{"a":1,"a":2}')).toThrow(SyntaxError);
  });

  it('rejects a duplicate member deep inside the document', () => {
    expect(() => parseJsonStrict('{"x":[{"y":{"z":1,"w":2,"z":3}}]}')).toThrow(SyntaxError);
  });

  it('compares decoded names, so escaped spellings collide', () => {
    expect(() => parseJsonStrict('{"a":1,"\\u0061":2}')).toThrow(SyntaxError);
    expect(() => parseJsonStrict('{"a\\"b":1,"a\\u0022b":2}')).toThrow(SyntaxError);
    expect(() => parseJsonStrict('{"\\/":1,"/":2}')).toThrow(SyntaxError);
  });

  it('finds duplicates in objects with many members', () => {
    const members = Array.from({ length: 100 }, (_, i) => `"k${i}":${i}`);
    expect(parseJsonStrict(`{${members.join(',')}}`)).toHaveProperty('k99', 99);
    expect(() => parseJsonStrict(`{${members.join(',')},"k3":0}`)).toThrow(SyntaxError);
  });

  it('allows the same name in sibling and nested objects', () => {
    expect(parseJsonStrict('[{"a":1},{"a":2}]')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseJsonStrict('{"a":{"a":{"a":1}}}')).toEqual({ a: { a: { a: 1 } } });
  });

  it('does not mistake string values or braces inside strings for member names', () => {
    expect(parseJsonStrict('{"a":"a","b":"{\\"a\\":1,\\"a\\":2}","c":["a","a"]}')).toEqual({
      a: 'a',
      b: '{"a":1,"a":2}',
      c: ['a', 'a'],
    });
    expect(parseJsonStrict('{"a\\\\":1,"a":2}')).toEqual({ 'a\\': 1, a: 2 });
  });

  it('rejects invalid JSON with a SyntaxError that does not quote the input', () => {
    for (const text of ['', '{', '{"a":}', '{"a":1,}', "{'a':1}", '{"a":1} x', 'nul', '{"a', '{"\\x":1}']) {
      let thrown: unknown;
      try {
        parseJsonStrict(text);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, text).toBeInstanceOf(SyntaxError);
    }
    expect(() => parseJsonStrict('{"secret-token-material": x}')).toThrow(/^(?!.*secret)/);
    expect(() => parseJsonStrict('{"secret-token-material": 1, "secret-token-material": 2}')).toThrow(
      /^(?!.*secret)/,
    );
  });

  it('caps nesting depth with a SyntaxError instead of crashing', () => {
    const deepArrays = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    expect(() => parseJsonStrict(deepArrays)).toThrow(SyntaxError);
    const deepObjects = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    expect(() => parseJsonStrict(deepObjects)).toThrow(SyntaxError);
    const unterminated = '['.repeat(1_000_000);
    expect(() => parseJsonStrict(unterminated)).toThrow(SyntaxError);

    const atLimit = `${'['.repeat(MAX_JSON_NESTING_DEPTH)}${']'.repeat(MAX_JSON_NESTING_DEPTH)}`;
    expect(parseJsonStrict(atLimit)).toBeInstanceOf(Array);
    const overLimit = `${'['.repeat(MAX_JSON_NESTING_DEPTH + 1)}${']'.repeat(MAX_JSON_NESTING_DEPTH + 1)}`;
    expect(() => parseJsonStrict(overLimit)).toThrow(SyntaxError);
  });

  it('keeps __proto__ as a harmless own property', () => {
    const value = parseJsonStrict('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => parseJsonStrict('{"__proto__":1,"__proto__":2}')).toThrow(SyntaxError);
  });
});

describe('parseJsonObjectStrict', () => {
  it('returns objects', () => {
    expect(parseJsonObjectStrict('{"alg":"ES256","typ":"JWT"}')).toEqual({ alg: 'ES256', typ: 'JWT' });
  });

  it('rejects other top-level values', () => {
    for (const text of ['[]', 'null', '1', '"x"', 'true']) {
      expect(() => parseJsonObjectStrict(text), text).toThrow(SyntaxError);
    }
  });
});

describe('parseJsonObjectStrictWithSources', () => {
  it('returns the exact source text of each top-level member value', () => {
    const text = '{ "seq" : 18446744073709551615 , "keys": [ {"a": 1} ],"s":"x\\"y", "n":{"m":{}} }';
    const { object, memberSources } = parseJsonObjectStrictWithSources(text);
    expect(object.seq).toBe(Number('18446744073709551615'));
    expect(memberSources.get('seq')).toBe('18446744073709551615');
    expect(memberSources.get('keys')).toBe('[ {"a": 1} ]');
    expect(memberSources.get('s')).toBe('"x\\"y"');
    expect(memberSources.get('n')).toBe('{"m":{}}');
    expect([...memberSources.keys()]).toEqual(['seq', 'keys', 's', 'n']);
  });

  it('still rejects duplicates and non-objects', () => {
    expect(() => parseJsonObjectStrictWithSources('{"a":1,"a":1}')).toThrow(SyntaxError);
    expect(() => parseJsonObjectStrictWithSources('[1]')).toThrow(SyntaxError);
  });
});
