/**
 * A strict command-line parser: every flag must be known, every value well-formed; problems
 * surface as UsageError (exit code 2, one line on stderr).
 */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The contract's limit on --prompt and --negative (settingsSchema). */
export const MAX_PROMPT_LENGTH = 2000;
/** No argument this command takes is longer: prompts are at most 2000 characters, paths at most 4096 bytes. */
export const MAX_ARGUMENT_LENGTH = 16 * 1024;

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
    const name = flag === '--prompt' || flag === '--negative' ? flag : flag.startsWith('--') ? `the value of ${flag}` : flag;
    const limit = flag === '--prompt' || flag === '--negative' ? MAX_PROMPT_LENGTH : MAX_ARGUMENT_LENGTH;
    const length = inline ? arg.length - eq - 1 : arg.length;
    throw new UsageError(`${name} must be at most ${limit} characters long, got ${length}`);
  }
}

export interface FlagSpec {
  /** Takes a value (`--steps 20`, `--steps=20`) or is a switch (`--json`). */
  value: boolean;
}

export type ParsedFlags = Map<string, string | true>;

export function parseFlags(argv: readonly string[], specs: Record<string, FlagSpec>): ParsedFlags {
  const flags: ParsedFlags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (flags.has(name)) throw new UsageError(`--${name} is given twice`);
    if (!spec.value) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    flags.set(name, value);
  }
  return flags;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function numberFlag(flags: ParsedFlags, name: string, check: { min?: number; max?: number; integer?: boolean; above?: number }): number | undefined {
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
