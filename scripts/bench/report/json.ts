import { format, resolveConfig } from 'prettier';

/** The run as JSON, formatted as the repo's prettier config wants (results are committed, and `npm run lint` checks them). */
export async function formatResultsJson(run: unknown, path: string): Promise<string> {
  return format(JSON.stringify(run), { ...(await resolveConfig(path)), parser: 'json' });
}
