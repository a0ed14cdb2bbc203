/** checkArgumentLengths: absurd arguments are refused in one line before any model is opened. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MAX_ARGUMENT_LENGTH, MAX_PROMPT_LENGTH, UsageError, checkArgumentLengths } from './args';

const refusal = (argv: string[]) => {
  try {
    checkArgumentLengths(argv);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
};

describe('checkArgumentLengths', () => {
  test('command lines of ordinary arguments pass', () => {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: MAX_ARGUMENT_LENGTH }), { maxLength: 6 }), (argv) => refusal(argv) === null));
  });

  test('any argument over the bound is refused in one line naming it, wherever it is', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 50 }), { maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: MAX_ARGUMENT_LENGTH + 1, max: 300_000 }),
        fc.constantFrom('--prompt', '--negative', '--search', null),
        (argv, at, length, flag) => {
          const index = at % (argv.length + 1);
          const huge = 'x'.repeat(length);
          const args = flag ? [...argv.slice(0, index), flag, huge, ...argv.slice(index)] : [...argv.slice(0, index), huge, ...argv.slice(index)];
          const message = refusal(args);
          expect(message).not.toBeNull();
          expect(message).not.toContain('\n');
          expect(message).toContain(`got ${length}`);
          expect(message!.length).toBeLessThan(200);
          if (flag === '--prompt' || flag === '--negative') expect(message).toBe(`${flag} must be at most ${MAX_PROMPT_LENGTH} characters long, got ${length}`);
        },
      ),
      { numRuns: 50 },
    );
  });

  test('--prompt=VALUE and a bare argument', () => {
    expect(refusal(['generate', `--prompt=${'a'.repeat(200_000)}`])).toBe(`--prompt must be at most ${MAX_PROMPT_LENGTH} characters long, got 200000`);
    expect(refusal(['models', 'b'.repeat(20_000)])).toBe(`argument 2 must be at most ${MAX_ARGUMENT_LENGTH} characters long, got 20000`);
  });
});
