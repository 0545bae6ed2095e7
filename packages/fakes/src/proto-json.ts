/**
 * A small proto3-JSON shape checker: unknown keys and wrong JSON types are
 * refused by Google's front end before the service sees the request, with
 * messages like `Invalid JSON payload received. Unknown name "foo" at
 * 'events[0]': Cannot find field.` (G-ESF, google-data-manager.md §9 rules 7-9).
 * The fakes accept lowerCamelCase keys only, to pin our client (rule 9).
 * Enums are accepted by name or by number, as every proto3 JSON parser does
 * ("Parsers accept both enum names and integer values", PB-JSON); Google's own
 * Node clients send numbers (`$alt=json;enum-encoding=int`). {@link enumsToNames}
 * turns numbers back into names before the fakes read a request.
 */
import { isRecord } from './request.js';
import type { FieldViolation } from './google-rpc.js';

/** A proto field type, as far as JSON shape goes. */
export type ProtoType =
  | { t: 'string' }
  | { t: 'double' }
  | { t: 'int32' }
  | { t: 'int64' }
  | { t: 'bool' }
  | { t: 'timestamp' }
  /** `values`: the names a client may send and their numbers (a refused value, such as `…_UNSPECIFIED`, is left out). */
  | { t: 'enum'; type: string; values: Readonly<Record<string, number>> }
  | { t: 'message'; type: string; fields: Readonly<Record<string, ProtoType>> }
  | { t: 'repeated'; of: ProtoType }
  /** google.protobuf.Struct or a message the fake does not inspect. */
  | { t: 'any' };

/** RFC 3339 as protobuf's Timestamp JSON parser accepts it: `Z` or an offset, 0-9 fractional digits (PB-TS). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export const P = {
  string: { t: 'string' },
  double: { t: 'double' },
  int32: { t: 'int32' },
  int64: { t: 'int64' },
  bool: { t: 'bool' },
  timestamp: { t: 'timestamp' },
  any: { t: 'any' },
  enumOf: (type: string, values: Readonly<Record<string, number>>): ProtoType => ({ t: 'enum', type, values }),
  message: (type: string, fields: Record<string, ProtoType>): ProtoType => ({ t: 'message', type, fields }),
  repeated: (of: ProtoType): ProtoType => ({ t: 'repeated', of }),
} as const satisfies Record<string, ProtoType | ((...args: never[]) => ProtoType)>;

/** `eventTimestamp` → `event_timestamp`: Google names fields in snake case in error paths. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function invalidValue(path: string, label: string, value: unknown): FieldViolation {
  return { field: path, description: `Invalid value at '${path}' (${label}), ${JSON.stringify(value)}` };
}

function check(value: unknown, type: ProtoType, path: string, name: string, out: FieldViolation[]): void {
  if (value === null) return; // proto3 JSON: null means "unset"
  switch (type.t) {
    case 'any':
      return;
    case 'string':
      if (typeof value !== 'string') out.push(invalidValue(path, 'TYPE_STRING', value));
      return;
    case 'bool':
      if (typeof value !== 'boolean') out.push(invalidValue(path, 'TYPE_BOOL', value));
      return;
    case 'double':
      // Proto3 JSON also allows numeric strings; the fake wants numbers, to pin our client.
      if (typeof value !== 'number' || !Number.isFinite(value)) out.push(invalidValue(path, 'TYPE_DOUBLE', value));
      return;
    case 'int32':
    case 'int64': {
      const ok = (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value));
      if (!ok) out.push(invalidValue(path, type.t === 'int32' ? 'TYPE_INT32' : 'TYPE_INT64', value));
      return;
    }
    case 'enum':
      if (enumName(value, type.values) === undefined) out.push(invalidValue(path, `type.googleapis.com/${type.type}`, value));
      return;
    case 'timestamp':
      if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
        out.push({
          field: path,
          description: `Invalid value at '${path}' (type.googleapis.com/google.protobuf.Timestamp), Field '${name}', Illegal timestamp format; timestamps must end with 'Z' or have a valid timezone offset.`,
        });
      }
      return;
    case 'repeated':
      if (!Array.isArray(value)) {
        out.push(invalidValue(path, type.of.t === 'message' ? `type.googleapis.com/${type.of.type}` : 'TYPE_LIST', value));
        return;
      }
      for (const [i, item] of value.entries()) check(item, type.of, `${path}[${i}]`, name, out);
      return;
    case 'message':
      if (!isRecord(value)) {
        out.push(invalidValue(path, `type.googleapis.com/${type.type}`, value));
        return;
      }
      for (const [key, item] of Object.entries(value)) {
        const field = type.fields[key];
        if (field === undefined) {
          out.push({
            field: path,
            description: `Invalid JSON payload received. Unknown name "${key}"${path === '' ? '' : ` at '${path}'`}: Cannot find field.`,
          });
          continue;
        }
        check(item, field, join(path, snakeCase(key)), key, out);
      }
  }
}

/** The name of an enum value given by name or by number; `undefined` when it is neither. */
function enumName(value: unknown, values: Readonly<Record<string, number>>): string | undefined {
  if (typeof value === 'string') return Object.hasOwn(values, value) ? value : undefined;
  if (typeof value !== 'number') return undefined;
  return Object.entries(values).find(([, n]) => n === value)?.[0];
}

/**
 * A copy of a shape-valid `value` with every enum given by number replaced by
 * its name, so the fakes' rules read names only. Pure.
 */
export function enumsToNames(value: unknown, type: ProtoType): unknown {
  if (value === null || value === undefined) return value;
  switch (type.t) {
    case 'enum':
      return enumName(value, type.values) ?? value;
    case 'repeated':
      return Array.isArray(value) ? value.map((item) => enumsToNames(item, type.of)) : value;
    case 'message':
      if (!isRecord(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, type.fields[k] === undefined ? v : enumsToNames(v, type.fields[k])]));
    default:
      return value;
  }
}

/** Every JSON shape violation of `value` against a message type. Pure. */
export function checkProtoJson(value: unknown, type: ProtoType): FieldViolation[] {
  const out: FieldViolation[] = [];
  check(value, type, '', '', out);
  return out;
}
