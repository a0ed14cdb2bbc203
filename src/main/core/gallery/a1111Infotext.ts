/**
 * AUTOMATIC1111's "infotext", the `parameters` text other tools (A1111, Forge, ComfyUI loaders,
 * image hosts) show and import, in both directions, and the mapping between A1111's sampler
 * names and this studio's solvers.
 *
 * The format (modules/infotext_utils.py): prompt lines, then optionally a line starting with
 * "Negative prompt:" and the lines after it, then one last line of `Key: value` pairs
 * separated by ", ". A value containing ",", ":" or a newline is written as a JSON string.
 */
import type { Settings } from '../../../shared/contract';
import { a1111SamplerName } from '../../../shared/samplerNames';
import { SOLVERS, SOLVER_IDS, type SpacingName, solverInfo } from '../../../shared/solvers';

// ---------------------------------------------------------------------------------------
// Writing

/** A1111-compatible sampler names for this studio's solvers (A1111's PLMS is 4th order; LTSP-k, STSP-k are this studio's). */
export const samplerName = a1111SamplerName;

/**
 * A1111's "Schedule type" (1.9 and later; before, it was a suffix of the sampler name) for a
 * spacing, where A1111 has the same one: Karras. The others have no A1111 counterpart and are
 * carried by this studio's own "Spacing" field alone.
 */
function scheduleType(spacing: Settings['spacing']): string | null {
  return spacing === 'karras' ? 'Karras' : null;
}

/** DDIM's eta as A1111 writes it ("Eta DDIM", only when it is not its default 0); the other solvers have none. */
function etaField(settings: Settings): [string, number] | null {
  return solverInfo(settings.solver).family === 'ddim' && settings.eta !== undefined && settings.eta !== 0 ? ['Eta DDIM', settings.eta] : null;
}

/** A1111's quote(): JSON only when the value would break the `Key: value, ...` line. */
function quote(value: string): string {
  return /[,:\n]/.test(value) ? JSON.stringify(value) : value;
}

/** Text that tEXt/iTXt can carry and the line format survives: no NUL, no CR, no lone surrogates. */
function cleanText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\0/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * AUTOMATIC1111's `parameters` text for these settings. `Model hash` is cut to 10 hex digits,
 * A1111's short (AutoV2) hash, which is what image hosts match on.
 */
export function a1111Parameters(settings: Settings, extra: { modelHash: string; modelName: string }): string {
  const schedule = scheduleType(settings.spacing);
  const eta = etaField(settings);
  const fields: [string, string | number][] = [
    ['Steps', settings.steps],
    ['Sampler', samplerName(settings.solver)],
    ...(schedule ? [['Schedule type', schedule] as [string, string]] : []),
    ['CFG scale', settings.guidance],
    ['Seed', settings.seed],
    ['Size', `${settings.width}x${settings.height}`],
    ['Model hash', extra.modelHash.slice(0, 10)],
    ['Model', cleanText(extra.modelName).replace(/\n/g, ' ')],
  ];
  if (settings.task !== 'txt2img') fields.push(['Denoising strength', settings.strength]);
  if (eta) fields.push(eta);
  fields.push(['Classifier scale', settings.classifierScale]);
  if (settings.classLabel !== null) fields.push(['Class', settings.classLabel]);
  fields.push(
    ['Spacing', typeof settings.spacing === 'string' ? settings.spacing : JSON.stringify(settings.spacing)],
    ['Solver id', settings.solver],
    ['Task', settings.task],
    ['Condition at', settings.conditionAt],
    ['Consistency scale', settings.consistencyScale],
    ['Clip x0', settings.clipX0 === null ? 'auto' : settings.clipX0 ? 'on' : 'off'],
  );
  const lines: string[] = [];
  if (settings.prompt) lines.push(cleanText(settings.prompt));
  if (settings.negativePrompt) lines.push(`Negative prompt: ${cleanText(settings.negativePrompt)}`);
  lines.push(fields.map(([k, v]) => `${k}: ${quote(String(v))}`).join(', '));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------
// Reading

/**
 * A1111's re_param, `\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`, as a scanner: the
 * same matches, in time linear in the line. The regular expression itself backtracks
 * super-linearly on hostile lines (a long run of words with no colon is rescanned from every
 * start; every unclosed quote is scanned to the end of the line), which froze the CLI and the
 * served process for minutes on a 1 MB `parameters` chunk.
 *
 * How the regex behaves, and so the scanner: a key is a maximal run of key characters
 * (`\w`, space, '-', '/') that starts with a word character, is at least two characters long
 * and is followed by ':'; no start inside a failed run can succeed (it ends at the same
 * character, shorter). A value is a JSON-like quoted string when one closes and is followed by
 * ',' or the end of the line, else everything up to the next comma.
 */
const isWordCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isKeyCode = (c: number) => isWordCode(c) || c === 32 || c === 45 || c === 47;
/** `\s` of a JavaScript regular expression, for one UTF-16 code unit. */
const isSpaceCode = (c: number) =>
  (c >= 9 && c <= 13) || c === 32 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
const isLineTerminatorCode = (c: number) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;

/**
 * Calls `take(key, value)` for each re_param match in `line`, at most `limit` times; returns
 * how many it found.
 */
function scanParams(line: string, take: (key: string, value: string) => void, limit = Infinity): number {
  const n = line.length;
  let found = 0;
  // closeAt[i]: where a quoted body scanned from i ends (the index of the closing '"', or -1 if
  // it never closes). One backward pass, made when the first quote is met, so no position is
  // scanned twice however many quotes open and never close.
  let closeAt: Int32Array | undefined;
  const closingQuote = (from: number): number => {
    if (!closeAt) {
      closeAt = new Int32Array(n + 2);
      closeAt[n] = -1;
      closeAt[n + 1] = -1;
      for (let i = n - 1; i >= 0; i--) {
        const c = line.charCodeAt(i);
        if (c === 34) closeAt[i] = i;
        // `\\.`: '.' takes anything but a line terminator; a lone backslash ends the match.
        else if (c === 92) closeAt[i] = i + 1 >= n || isLineTerminatorCode(line.charCodeAt(i + 1)) ? -1 : closeAt[i + 2];
        else closeAt[i] = closeAt[i + 1];
      }
    }
    return closeAt[from];
  };

  let pos = 0;
  while (pos < n && found < limit) {
    // The next key run: from a word character over key characters.
    while (pos < n && !isWordCode(line.charCodeAt(pos))) pos++;
    if (pos >= n) break;
    const keyStart = pos;
    while (pos < n && isKeyCode(line.charCodeAt(pos))) pos++;
    if (pos >= n || line.charCodeAt(pos) !== 58 || pos - keyStart < 2) continue; // pos is past the run: no start inside it can match
    const keyEnd = pos;
    pos++; // ':'
    while (pos < n && isSpaceCode(line.charCodeAt(pos))) pos++;
    let value: string | undefined;
    if (line.charCodeAt(pos) === 34 && pos + 1 < n && line.charCodeAt(pos + 1) !== 34) {
      // `"(?:\\.|[^\\"])+"`: at least one character inside (an empty "" is not a quoted value).
      const close = closingQuote(pos + 1);
      if (close > pos + 1 && (close + 1 === n || line.charCodeAt(close + 1) === 44)) {
        value = line.slice(pos, close + 1);
        pos = close + 2;
      }
    }
    if (value === undefined) {
      const comma = line.indexOf(',', pos);
      const end = comma < 0 ? n : comma;
      value = line.slice(pos, end);
      pos = end + 1;
    }
    take(line.slice(keyStart, keyEnd), value);
    found++;
  }
  return found;
}

function unquote(value: string): string {
  if (value.length < 2 || value[0] !== '"' || value[value.length - 1] !== '"') return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}

export interface A1111Parameters {
  prompt: string;
  negativePrompt: string;
  /** Every `Key: value` of the last line, quoted values unquoted; a repeated key keeps the last. */
  fields: Record<string, string>;
}

/**
 * Parses AUTOMATIC1111's `parameters` text the way A1111's parse_generation_parameters does:
 * the last line holds the fields if it has at least three `Key: value` pairs (otherwise it is
 * part of the prompt); lines are trimmed; the negative prompt starts at "Negative prompt:" and
 * runs to the fields line.
 */
export function parseA1111Parameters(text: string): A1111Parameters {
  const lines = text.replace(/\r\n?/g, '\n').trim().split('\n');
  let last = lines.pop() ?? '';
  if (scanParams(last, () => {}, 3) < 3) {
    lines.push(last);
    last = '';
  }
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (const raw of lines) {
    let line = raw.trim();
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      line = line.slice('Negative prompt:'.length).trim();
    }
    (inNegative ? negative : prompt).push(line);
  }
  const fields: Record<string, string> = {};
  scanParams(last, (key, value) => {
    fields[key.trim()] = unquote(value.trim());
  });
  return { prompt: prompt.join('\n'), negativePrompt: negative.join('\n'), fields };
}

/** Sampler names of A1111, ComfyUI and this studio, normalised (lower case, single spaces). */
const SAMPLER_ALIASES: Record<string, string> = {
  ddim: 'ddim',
  plms: 'plms4',
  euler: 'euler',
  'euler a': 'euler-a',
  euler_ancestral: 'euler-a',
  heun: 'heun',
  'dpm++ 2m': 'dpmpp2m',
  'dpm-solver++(2m)': 'dpmpp2m',
  dpmpp_2m: 'dpmpp2m',
  unipc: 'unipc2',
  uni_pc: 'unipc2',
  uni_pc_bh2: 'unipc2',
  'unipc-2 (bh2)': 'unipc2',
};

/** A1111's schedule types (its "Schedule type", or before 1.9 a suffix of the sampler name) this studio has, as spacings. */
const SCHEDULE_SPACINGS: Record<string, SpacingName> = { karras: 'karras' };

/** A1111 before 1.9 put the schedule in the sampler name ("DPM++ 2M Karras"). */
const SCHEDULE_SUFFIXES = ['karras', 'exponential', 'polyexponential', 'sgm uniform', 'align your steps', 'beta'];

/**
 * A1111's schedule type as a spacing: `spacing` when this studio has it, null for "Automatic"
 * (the sampler's own, which is the spacing from the settings here), a warning for the others.
 */
export function spacingFromSchedule(schedule: string): { spacing: SpacingName | null; warnings: string[] } {
  const key = schedule.trim().toLowerCase().replace(/\s+/g, ' ');
  if (key === 'automatic') return { spacing: null, warnings: [] };
  if (Object.hasOwn(SCHEDULE_SPACINGS, key)) return { spacing: SCHEDULE_SPACINGS[key], warnings: [] };
  return { spacing: null, warnings: [`schedule type "${schedule}" is not available here; the spacing from the settings is used`] };
}

/**
 * Maps a sampler name to a solver id and, for a name with a schedule in it ("DPM++ 2M Karras"),
 * a spacing; or says why it cannot.
 */
export function solverFromSampler(name: string): { solver: string | null; spacing: SpacingName | null; warnings: string[] } {
  const warnings: string[] = [];
  let spacing: SpacingName | null = null;
  let key = name.trim().toLowerCase().replace(/\s+/g, ' ');
  for (const suffix of SCHEDULE_SUFFIXES) {
    if (key.endsWith(` ${suffix}`)) {
      key = key.slice(0, -suffix.length - 1);
      const schedule = spacingFromSchedule(suffix);
      spacing = schedule.spacing;
      if (!spacing) warnings.push(`sampler "${name}": the ${suffix} schedule is not available here; the spacing from the settings is used`);
      break;
    }
  }
  const multistep = /^(plms|ltsp|stsp)[- ]?([1-4])$/.exec(key);
  const alias = Object.hasOwn(SAMPLER_ALIASES, key) ? SAMPLER_ALIASES[key] : null;
  // Our own solvers are written under their labels ("Split PC-3").
  const byLabel = SOLVERS.find((s) => s.label.toLowerCase() === key)?.id ?? null;
  const solver = SOLVER_IDS.includes(key) ? key : (alias ?? (multistep ? `${multistep[1]}${multistep[2]}` : byLabel));
  return solver ? { solver, spacing, warnings } : { solver: null, spacing: null, warnings: [] };
}
