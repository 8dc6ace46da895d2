import { readFileSync } from 'node:fs';
import { isValidTimeZone } from '@clinmesh/canonical';

/** Normalization's own settings (NORMALIZATION_*), validated once with every problem listed. */
export interface NormalizationConfig {
  /** JSON terminology map file; null = the maps shipped with @clinmesh/canonical. Re-read when it changes. */
  terminologyMapFile: string | null;
  /** Sender (MSH-3, or `MSH-3|MSH-4`) → IANA time zone, for times sent without an offset. */
  senderTimeZones: Record<string, string>;
  /** Zone for senders not listed; null = such instants stay unresolved (offsetSource NONE). */
  defaultTimeZone: string | null;
}

export function loadNormalizationConfig(env: (name: string) => string | undefined): NormalizationConfig {
  const problems: string[] = [];
  let senderTimeZones: Record<string, string> = {};
  const zonesFile = env('SENDER_TIME_ZONES_FILE');
  const zonesJson = env('SENDER_TIME_ZONES') ?? (zonesFile ? readOrProblem(zonesFile, problems) : undefined);
  if (zonesJson) {
    try {
      senderTimeZones = JSON.parse(zonesJson) as Record<string, string>;
      for (const [sender, zone] of Object.entries(senderTimeZones)) {
        if (typeof zone !== 'string' || !isValidTimeZone(zone)) problems.push(`NORMALIZATION_SENDER_TIME_ZONES: ${sender} has an unknown time zone ${JSON.stringify(zone)}`);
      }
    } catch {
      problems.push('NORMALIZATION_SENDER_TIME_ZONES must be a JSON object {"<sender>": "<IANA zone>"}');
    }
  }
  const defaultTimeZone = env('DEFAULT_TIME_ZONE') ?? null;
  if (defaultTimeZone && !isValidTimeZone(defaultTimeZone)) problems.push(`NORMALIZATION_DEFAULT_TIME_ZONE ${defaultTimeZone} is not an IANA time zone`);
  const terminologyMapFile = env('TERMINOLOGY_MAP_FILE') ?? null;
  if (terminologyMapFile) readOrProblem(terminologyMapFile, problems);
  if (problems.length) throw new Error(`invalid normalization configuration: ${problems.join('; ')}`);
  return { terminologyMapFile, senderTimeZones, defaultTimeZone };
}

function readOrProblem(path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    problems.push(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    return undefined;
  }
}

/** The zone for a sender: `system|facility` first, then `system`, then the default. */
export function senderTimeZone(config: NormalizationConfig, system: string, facility: string): string | null {
  return config.senderTimeZones[`${system}|${facility}`] ?? config.senderTimeZones[system] ?? config.defaultTimeZone;
}
