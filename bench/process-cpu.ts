import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/**
 * CPU time per stage, read from /proc (Linux): each service process, the
 * mock Kafka cluster, and the PostgreSQL backends attributed to the database
 * they serve (a backend's title is "postgres: <user> <db> <client> <state>").
 * Backends that exit between two samples are counted under "postgres (other)"
 * through the postmaster's cumulative children time. Used by the pipeline
 * bench to turn "msg/s" into "CPU ms per message per stage" and a ceiling.
 */
export type CpuSample = Map<string, number>;

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat { pid: number; ppid: number; own: number; children: number; title: string }

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pid, ppid: Number(fields[1]), own: Number(fields[11]) + Number(fields[12]), children: Number(fields[13]) + Number(fields[14]), title };
  } catch {
    return undefined; // exited meanwhile
  }
}

const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;

/**
 * One sample: CPU ms so far per label. `processes` maps a label to a pid (its own time only);
 * `postgresPort` finds the postmaster serving that port and splits its backends by database.
 */
export function sampleCpu(processes: Record<string, number | undefined>, postgresPort?: number): CpuSample {
  const sample: CpuSample = new Map();
  for (const [label, pid] of Object.entries(processes)) {
    const s = pid ? procStat(pid) : undefined;
    if (s) sample.set(label, ms(s.own));
  }
  if (postgresPort) {
    const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((d) => procStat(Number(d))).filter((s): s is ProcStat => !!s);
    const postmaster = all.find((s) => /(^|\/)postgres /.test(s.title) && s.title.includes(` -p ${postgresPort} `));
    if (postmaster) {
      let other = postmaster.own + postmaster.children;
      for (const child of all.filter((s) => s.ppid === postmaster.pid)) {
        const db = /^postgres: \S+ (\S+) /.exec(child.title)?.[1];
        if (db) sample.set(`postgres:${db}`, (sample.get(`postgres:${db}`) ?? 0) + ms(child.own));
        else other += child.own;
      }
      sample.set('postgres (other)', ms(other));
    }
  }
  return sample;
}

/** CPU ms spent per label between two samples (labels missing from either count from zero). */
export function cpuBetween(before: CpuSample, after: CpuSample): Map<string, number> {
  const spent = new Map<string, number>();
  for (const [label, t] of after) spent.set(label, Math.max(0, t - (before.get(label) ?? 0)));
  return spent;
}
