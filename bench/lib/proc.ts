import { readdir, readFile } from 'node:fs/promises';

// /proc/PID/stat counts CPU time in clock ticks; Linux exposes USER_HZ = 100 to user space
// (`getconf CLK_TCK` on this machine), so one tick is 10 ms.
const MS_PER_TICK = 10;

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited between readdir and read
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { pid, ppid, ticks };
}

/** The process and all its live descendants (a server may be a wrapper that spawns the real one). */
async function processTree(root: number): Promise<ProcStat[]> {
  const entries = await readdir('/proc');
  const stats: ProcStat[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readStat(Number(name));
    if (stat) stats.push(stat);
  }
  const inTree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of stats) {
      if (!inTree.has(s.pid) && inTree.has(s.ppid)) {
        inTree.add(s.pid);
        grew = true;
      }
    }
  }
  return stats.filter((s) => inTree.has(s.pid));
}

/** utime + stime of the process tree rooted at `pid`, in milliseconds. */
export async function cpuMs(pid: number): Promise<number> {
  const tree = await processTree(pid);
  return tree.reduce((sum, s) => sum + s.ticks, 0) * MS_PER_TICK;
}

/** Starts a CPU probe; `stop()` returns the server's CPU milliseconds spent in between. */
export async function startCpuProbe(pid: number): Promise<{ stop(): Promise<number> }> {
  const before = await cpuMs(pid);
  return { stop: async () => (await cpuMs(pid)) - before };
}

/** VmHWM (peak resident set) in MiB, summed over the process tree. */
export async function peakRssMiB(pid: number): Promise<number> {
  const tree = await processTree(pid);
  let kib = 0;
  for (const s of tree) {
    try {
      const status = await readFile(`/proc/${s.pid}/status`, 'utf8');
      const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
      if (match) kib += Number(match[1]);
    } catch {
      // exited
    }
  }
  return kib / 1024;
}

/**
 * How busy the whole machine is: the 1-minute load average and the share of the last 10 s in
 * which some task waited for a CPU (PSI). Other work on the machine skews wall-clock numbers.
 */
export async function machineLoad(): Promise<{ loadAvg1: number; cpuWaitPct10s: number }> {
  const loadAvg1 = Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0]);
  let cpuWaitPct10s = Number.NaN;
  try {
    const psi = await readFile('/proc/pressure/cpu', 'utf8');
    cpuWaitPct10s = Number(/^some avg10=([\d.]+)/m.exec(psi)?.[1] ?? Number.NaN);
  } catch {
    // kernel without PSI
  }
  return { loadAvg1, cpuWaitPct10s };
}
