/**
 * The metric and label names a PromQL expression refers to, for checking alert
 * rules and dashboards against what the services export. Not a PromQL parser:
 * a tokenizer that knows selectors, grouping clauses and function calls, which is
 * all the rules and dashboard here use.
 */
export interface PromqlNames {
  /** metric name → label names its selector matches on. */
  selectors: Map<string, Set<string>>;
  /** Label names of by/without/on/ignoring/group_left/group_right clauses. */
  grouping: Set<string>;
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const MATCHER = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g;

export function promqlNames(expr: string): PromqlNames {
  const selectors = new Map<string, Set<string>>();
  const grouping = new Set<string>();
  for (const clause of expr.matchAll(GROUPING)) {
    for (const label of clause[1]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean))
      grouping.add(label);
  }
  // Grouping lists are consumed; what remains names metrics, functions, keywords, numbers and durations.
  const rest = expr.replace(GROUPING, ' ');
  const token = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?|\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\{[^}]*\}/g;
  for (const match of rest.matchAll(token)) {
    const [, name, braces, call] = match;
    if (!name || call || KEYWORDS.has(name)) continue;
    if (/^\d/.test(name)) continue;
    const labels = selectors.get(name) ?? new Set<string>();
    for (const matcher of (braces ?? '').matchAll(MATCHER)) labels.add(matcher[1]!);
    selectors.set(name, labels);
  }
  return { selectors, grouping };
}
