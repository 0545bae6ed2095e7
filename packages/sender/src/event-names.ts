/**
 * Platform event names for a funnel stage: defaults derived from the stage key
 * (platforms.md §5, a design recommendation), replaced by per-stage overrides.
 */
import type { StageOverrides } from './types.js';

/** The names one stage is sent under. */
export interface StageEventNames {
  /** Meta `event_name`. */
  meta: string;
  /** TikTok `event`. */
  tiktok: string;
  /** Google conversion action id from the stage override; `undefined` means the connection's. */
  google_conversion_action_id?: string;
}

interface Rule {
  /** Stage-key words (after splitting and de-pluralising) that select this rule. */
  words: readonly string[];
  meta: string;
  tiktok: string;
}

/**
 * Checked in order; the first rule with a matching word wins, so the more
 * specific stage beats the generic one: `qualified_lead` is a qualified lead,
 * not a lead; `sales_call` is a booked call, not a sale.
 */
const RULES: readonly Rule[] = [
  // A qualified lead has no Meta standard event: a custom event (platforms.md §5).
  // TikTok: `ApplicationApproval` (a standard event, so TikTok can optimise on it)
  // rather than a custom event, which TikTok only reports on (platforms.md §4.5, T-HELP).
  { words: ['qualified', 'mql', 'sql'], meta: 'QualifiedLead', tiktok: 'ApplicationApproval' },
  { words: ['booked', 'book', 'call', 'schedule', 'scheduled', 'appointment', 'opportunity'], meta: 'Schedule', tiktok: 'Schedule' },
  { words: ['sale', 'purchase', 'purchased', 'order', 'ordered'], meta: 'Purchase', tiktok: 'Purchase' },
  { words: ['signup', 'register', 'registered', 'registration'], meta: 'CompleteRegistration', tiktok: 'CompleteRegistration' },
  { words: ['contact'], meta: 'Contact', tiktok: 'Contact' },
  { words: ['lead'], meta: 'Lead', tiktok: 'Lead' },
];

/** Lower-case words of a key: split on non-alphanumerics and camelCase humps. */
function words(stageKey: string): string[] {
  return stageKey
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** `orders` → `order`, but `sales` → `sale` too; short words are left alone. */
function singular(word: string): string {
  return word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

/**
 * PascalCase custom event name for a stage key no rule knows
 * (`demo_done` → `DemoDone`). Meta limits custom names to 50 characters.
 */
export function customEventName(stageKey: string): string {
  const name = words(stageKey)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')
    .slice(0, 50);
  return name.length > 0 ? name : 'Conversion';
}

/**
 * Default Meta and TikTok event names for a stage key.
 *
 * @example defaultEventNames('booked_call') // { meta: 'Schedule', tiktok: 'Schedule' }
 */
export function defaultEventNames(stageKey: string): { meta: string; tiktok: string } {
  const ws = words(stageKey).map(singular);
  // `sign_up` / `sign-up` split into two words.
  for (let i = 0; i + 1 < ws.length; i++) if (ws[i] === 'sign' && ws[i + 1] === 'up') ws.push('signup');
  for (const rule of RULES) {
    if (ws.some((w) => rule.words.includes(w))) return { meta: rule.meta, tiktok: rule.tiktok };
  }
  const custom = customEventName(stageKey);
  return { meta: custom, tiktok: custom };
}

/** The stage's names: overrides first, then the defaults from its key. */
export function resolveEventNames(stageKey: string, overrides?: StageOverrides): StageEventNames {
  const defaults = defaultEventNames(stageKey);
  const names: StageEventNames = {
    meta: overrides?.meta_event_name ?? defaults.meta,
    tiktok: overrides?.tiktok_event_name ?? defaults.tiktok,
  };
  if (overrides?.google_conversion_action_id !== undefined) {
    names.google_conversion_action_id = overrides.google_conversion_action_id;
  }
  return names;
}
