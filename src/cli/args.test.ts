/**
 * checkArgumentLengths: absurd arguments are refused in one line before any model is opened.
 * parseCommand: each command's flags read strictly, every problem one line naming the argument.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SETTINGS_LIMITS } from '../shared/settingsFields';
import { type CommandSpec, HelpRequested, MAX_ARGUMENT_LENGTH, UsageError, checkArgumentLengths, parseCommand } from './args';

const MAX_PROMPT_LENGTH = SETTINGS_LIMITS.prompt.maxLength;

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

describe('parseCommand', () => {
  const spec: CommandSpec = { help: 'usage: split-studio try [--steps N] [--prompt TEXT] [--json] ID', values: ['steps', 'prompt'], switches: ['json'], positionals: 1 };
  const parsed = (argv: string[]) => {
    const { flags, positionals } = parseCommand(argv, spec);
    return { flags: Object.fromEntries(flags), positionals };
  };
  const problem = (argv: string[]) => {
    try {
      parseCommand(argv, spec);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
    throw new Error(`${argv.join(' ')} was accepted`);
  };

  test('values separate or after =, switches, bare arguments in any order', () => {
    expect(parsed(['12', '--steps', '20', '--prompt=a cat', '--json'])).toEqual({ flags: { steps: '20', prompt: 'a cat', json: true }, positionals: ['12'] });
    expect(parsed(['--json', '12'])).toEqual({ flags: { json: true }, positionals: ['12'] });
    expect(parsed(['--', '-7.png'])).toEqual({ flags: {}, positionals: ['-7.png'] });
  });

  test('a value that starts with a dash is the value (a negative number is a range error later, not a parse error)', () => {
    expect(parsed(['--steps', '-3', '--prompt', '-h'])).toEqual({ flags: { steps: '-3', prompt: '-h' }, positionals: [] });
  });

  test.each([
    [['--stepz', '3'], 'unknown option --stepz'],
    [['-x'], 'unknown option -x'],
    [['--steps'], '--steps needs a value'],
    [['--prompt', '--json'], '--prompt needs a value'],
    [['--json=yes'], '--json takes no value'],
    [['--steps', '2', '--steps=3'], '--steps is given twice'],
    [['12', '13'], 'unexpected argument "13"'],
  ])('%j: %s', (argv, message) => {
    expect(problem(argv)).toBe(message);
  });

  test('--help and -h ask for the help, wherever they stand, once the rest parses', () => {
    const helpAskedBy = (argv: string[]) => {
      try {
        parseCommand(argv, spec);
        return null;
      } catch (error) {
        return error instanceof HelpRequested ? error.help : error;
      }
    };
    for (const argv of [['--help'], ['-h'], ['--steps', '3', '-h'], ['12', '--help']]) expect(helpAskedBy(argv)).toBe(spec.help);
    expect(problem(['--stepz', '--help'])).toBe('unknown option --stepz');
  });
});
