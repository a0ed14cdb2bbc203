/**
 * Every operation's input schema, fed arbitrary values (what a hostile page or local client
 * can send over IPC or the served WebSocket): validation never throws, answers quickly, and
 * what it accepts is well-formed. fast-check's seed is fixed (FC_SEED to try another) and
 * printed on failure, so a failure replays.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { OPERATIONS, operationSchemas, settingsSchema } from './contract';
import { baseSettings } from './modelSettings';

const seed = Number(process.env.FC_SEED ?? 20261130);
const TIME_LIMIT_MS = 100;

/** Arbitrary JSON-ish values, plus the shapes that trip validators: huge numbers, NaN, prototypes. */
const hostileValue = fc.oneof(
  fc.anything({ maxDepth: 4, withBigInt: true, withNullPrototype: true, withBoxedValues: true, withTypedArray: true, withSparseArray: true }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 2 ** 60, '__proto__', { __proto__: { polluted: true } }, { constructor: { prototype: {} } }),
);

function timed<T>(run: () => T): T {
  const started = performance.now();
  const out = run();
  expect(performance.now() - started).toBeLessThan(TIME_LIMIT_MS);
  return out;
}

describe('operation schemas under arbitrary input', () => {
  test.each(OPERATIONS.map((op) => [op]))('%s: never throws, answers in time', (op) => {
    const schema = operationSchemas[op];
    fc.assert(
      fc.property(fc.oneof(hostileValue, fc.dictionary(fc.string({ maxLength: 12 }), hostileValue, { maxKeys: 8 })), (input) => {
        timed(() => schema.safeParse(input));
      }),
      { seed, numRuns: 300 },
    );
  });

  test('settings: random changes to valid settings are accepted only when every number is finite and in range', () => {
    const keys = Object.keys(baseSettings()) as (keyof ReturnType<typeof baseSettings>)[];
    fc.assert(
      fc.property(fc.constantFrom(...keys), hostileValue, (key, value) => {
        const candidate = { ...baseSettings(), [key]: value };
        const parsed = timed(() => settingsSchema.safeParse(candidate));
        if (parsed.success) {
          for (const v of Object.values(parsed.data)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
          expect(Object.getPrototypeOf(parsed.data)).toBe(Object.prototype);
        }
      }),
      { seed, numRuns: 2000 },
    );
  });
});
