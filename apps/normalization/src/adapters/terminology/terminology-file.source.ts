import { readFileSync, statSync } from 'node:fs';
import { DEFAULT_TERMINOLOGY, TerminologyMaps, parseTerminologyMapData } from '@clinmesh/canonical';

/**
 * The terminology maps in force: the file named by
 * NORMALIZATION_TERMINOLOGY_MAP_FILE (else the shipped maps). The file is
 * re-read when its modification time changes (checked at most once a
 * second) or on POST /v1/terminology/reload, so a terminology team's fix
 * applies to the next message and to a replay without a restart. A broken
 * file keeps the previous maps and is reported.
 */
export class TerminologyFileSource {
  private maps: TerminologyMaps;
  private mtimeMs = 0;
  private checkedAt = 0;
  lastError: string | null = null;

  constructor(private readonly file: string | null) {
    this.maps = new TerminologyMaps(DEFAULT_TERMINOLOGY);
    if (file) this.reload();
  }

  current(now = Date.now()): TerminologyMaps {
    if (this.file && now - this.checkedAt >= 1000) {
      this.checkedAt = now;
      try {
        if (statSync(this.file).mtimeMs !== this.mtimeMs) this.reload();
      } catch (e) {
        this.lastError = `cannot stat terminology map: ${(e as NodeJS.ErrnoException).code ?? 'error'}`;
      }
    }
    return this.maps;
  }

  /** Re-reads the file; throws (keeping the previous maps) when it is invalid. */
  reload(): { version: string; file: string | null } {
    if (!this.file) return { version: this.maps.version, file: null };
    const mtimeMs = statSync(this.file).mtimeMs;
    try {
      this.maps = new TerminologyMaps(parseTerminologyMapData(JSON.parse(readFileSync(this.file, 'utf8'))));
      this.lastError = null;
    } catch (e) {
      this.lastError = (e as Error).message;
      throw e;
    } finally {
      this.mtimeMs = mtimeMs;
      this.checkedAt = Date.now();
    }
    return { version: this.maps.version, file: this.file };
  }
}
