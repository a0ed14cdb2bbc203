/**
 * The command line, read strictly: every flag must be known, every value well-formed; problems
 * surface as UsageError (exit code 2, one line on stderr).
 */
import { parseArgs } from 'node:util';
import { type NumberLimits, SETTINGS_FIELDS, SETTINGS_KEYS } from '../shared/settingsFields';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** No argument this command takes is longer: prompts are at most 2000 characters, paths at most 4096 bytes. */
export const MAX_ARGUMENT_LENGTH = 16 * 1024;

/** The flags of text settings (--prompt, --negative), each with the longest text the contract accepts. */
const TEXT_FLAG_LIMITS: ReadonlyMap<string, number> = new Map(
  SETTINGS_KEYS.flatMap((key) => {
    const { flag, limits } = SETTINGS_FIELDS[key];
    return limits && 'maxLength' in limits ? [[flag, limits.maxLength] as const] : [];
  }),
);

/**
 * Refuses an absurdly long argument before anything else runs: onnxruntime-node crashes
 * (SIGSEGV) in a process whose command line is very long, so such a run must end before a
 * model is opened, with a line saying which argument is at fault.
 */
export function checkArgumentLengths(argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.length <= MAX_ARGUMENT_LENGTH) continue;
    const eq = arg.indexOf('=');
    const option = (text: string | undefined) => text !== undefined && /^--[a-z][\w-]{0,40}$/i.test(text);
    const inline = arg.startsWith('--') && eq > 2 && option(arg.slice(0, eq));
    const flag = inline ? arg.slice(0, eq) : !arg.startsWith('--') && option(argv[i - 1]) ? argv[i - 1] : `argument ${i + 1}`;
    const textLimit = TEXT_FLAG_LIMITS.get(flag);
    const name = textLimit !== undefined ? flag : flag.startsWith('--') ? `the value of ${flag}` : flag;
    const limit = textLimit ?? MAX_ARGUMENT_LENGTH;
    const length = inline ? arg.length - eq - 1 : arg.length;
    throw new UsageError(`${name} must be at most ${limit} characters long, got ${length}`);
  }
}

/** A command's flags and bare arguments, and the help `--help` (or `-h`) prints for it. */
export interface CommandSpec {
  help: string;
  /** Flags that take a value: `--steps 20` or `--steps=20`. */
  values?: readonly string[];
  /** Flags that take none: `--json`. */
  switches?: readonly string[];
  /** How many bare arguments it takes (gallery show ID: 1). */
  positionals?: number;
}

/** A flag's value, or `true` for a switch that was given. */
export type ParsedFlags = Map<string, string | true>;

export interface ParsedCommand {
  flags: ParsedFlags;
  positionals: string[];
}

/** `--help` or `-h` was given: main prints `help` and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly help: string) {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

/**
 * The command line of one command. node:util's parseArgs splits it (its tokens say which flag
 * each value belongs to); the checks that make it strict are made here on those tokens,
 * because parseArgs's own strict mode refuses any value starting with a dash (`--seed -1`
 * should be a range error naming --seed) and words its refusals in several sentences. Every
 * problem is a one-line UsageError naming the argument: an unknown flag, a missing value, a
 * value for a switch, a flag given twice, an extra bare argument.
 */
export function parseCommand(argv: readonly string[], spec: CommandSpec): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const name of spec.values ?? []) options[name] = { type: 'string' };
  for (const name of spec.switches ?? []) options[name] = { type: 'boolean' };
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const flags: ParsedFlags = new Map();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (positionals.length >= (spec.positionals ?? 0)) throw new UsageError(`unexpected argument "${token.value}"`);
      positionals.push(token.value);
    } else if (token.kind === 'option') {
      if (!Object.hasOwn(options, token.name)) throw new UsageError(`unknown option ${token.rawName}`);
      if (flags.has(token.name)) throw new UsageError(`${token.rawName} is given twice`);
      flags.set(token.name, optionValue(token, options[token.name].type));
    }
  }
  if (flags.has('help')) throw new HelpRequested(spec.help);
  return { flags, positionals };
}

/** A known flag's value; a value that is itself a long flag (`--prompt --json`) means the value was left out. */
function optionValue(token: { rawName: string; value?: string; inlineValue?: boolean }, type: 'string' | 'boolean'): string | true {
  if (type === 'boolean') {
    if (token.inlineValue) throw new UsageError(`${token.rawName} takes no value`);
    return true;
  }
  const { value } = token;
  if (value === undefined || (!token.inlineValue && value.startsWith('--') && value.length > 2)) throw new UsageError(`${token.rawName} needs a value`);
  return value;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function numberFlag(flags: ParsedFlags, name: string, check: NumberLimits): number | undefined {
  const raw = flags.get(name);
  if (raw === undefined) return undefined;
  if (raw === true || !NUMBER.test(raw.trim())) throw new UsageError(`--${name} must be a number, got "${raw === true ? '' : raw}"`);
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new UsageError(`--${name} must be finite, got "${raw}"`);
  if (check.integer && !Number.isInteger(v)) throw new UsageError(`--${name} must be a whole number, got ${raw}`);
  if (check.min !== undefined && v < check.min) throw new UsageError(`--${name} must be at least ${check.min}, got ${raw}`);
  if (check.max !== undefined && v > check.max) throw new UsageError(`--${name} must be at most ${check.max}, got ${raw}`);
  if (check.above !== undefined && !(v > check.above)) throw new UsageError(`--${name} must be greater than ${check.above}, got ${raw}`);
  return v;
}

export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const raw = flags.get(name);
  if (raw === true) throw new UsageError(`--${name} needs a value`);
  return raw;
}

export function choiceFlag<T extends string>(flags: ParsedFlags, name: string, choices: readonly T[]): T | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  if (!choices.includes(raw as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  return raw as T;
}

/** "1,4,64,64" -> [1, 4, 64, 64] (positive whole numbers). */
export function intListFlag(flags: ParsedFlags, name: string, min: number): number[] | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--${name} must be a comma-separated list of whole numbers, got "${raw}"`);
  const values = parts.map(Number);
  const bad = values.find((v) => v < min || !Number.isSafeInteger(v));
  if (bad !== undefined) throw new UsageError(`--${name}: ${bad} is out of range (min ${min})`);
  return values;
}
