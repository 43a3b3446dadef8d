/**
 * Writes plain data (what a stored pipeline spec is: objects, arrays, strings, numbers,
 * booleans, null) as block-style YAML, to load a stored version into the editor. Strings that
 * YAML could read as something else are written as JSON strings, which YAML reads back as-is.
 */
export function toYaml(value: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return value
      .map((item) => {
        if (isBlock(item)) {
          const inner = toYaml(item, indent + 2);
          return `${pad}- ${inner.slice(indent + 2)}`;
        }
        return `${pad}- ${scalar(item)}`;
      })
      .join('\n');
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '{}';
    return entries
      .map(([key, v]) => {
        const k = plainKey(key) ? key : JSON.stringify(key);
        if (isBlock(v)) return `${pad}${k}:\n${toYaml(v, indent + 2)}`;
        return `${pad}${k}: ${Array.isArray(v) || (v && typeof v === 'object') ? toYaml(v, indent + 2) : scalar(v)}`;
      })
      .join('\n');
  }
  return `${pad}${scalar(value)}`;
}

function isBlock(v: unknown): boolean {
  return (Array.isArray(v) && v.length > 0) || (!!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0);
}

function plainKey(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key);
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') {
    const plain = /^[A-Za-z_/.][A-Za-z0-9_ ./@-]*$/.test(v) && !/^(true|false|null|yes|no|on|off|~)$/i.test(v) && !/\s$/.test(v) && !/ #/.test(v);
    return plain ? v : JSON.stringify(v);
  }
  return JSON.stringify(v);
}
