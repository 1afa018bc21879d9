/**
 * The data directory holds the metadata database (users, token hashes, encrypted secrets), the
 * secret key file and every blob; nobody but the server's own user should read any of it.
 * Everything Gantry creates is private through the umask; what an older instance (or an
 * administrator's chmod) left readable by others is narrowed here at start-up, with a warning
 * naming the path and the mode it had.
 */
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../config/logger.ts';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/** Files and directories directly under the data directory that get a private mode at start. */
const DATA_FILES = ['gantry.db', 'gantry.db-wal', 'gantry.db-shm', 'gantry.db-journal', 'secret.key'];

/**
 * Call before opening the database: SQLite gives a new WAL file the database file's mode, so the
 * database must be private first. Creates the data directory when absent. Returns what it changed.
 */
export async function securePrivateData(data: string, log: Logger): Promise<string[]> {
  // Everything this process creates from now on: files 0600, directories 0700.
  process.umask(0o077);
  await mkdir(data, { recursive: true, mode: PRIVATE_DIR });
  const repaired: string[] = [];
  const narrow = async (path: string, wanted: number) => {
    let mode: number;
    try {
      mode = (await stat(path)).mode & 0o777;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    if ((mode & 0o077) === 0) return;
    await chmod(path, wanted);
    log.warn(
      { path, mode: mode.toString(8), now: wanted.toString(8) },
      'data was readable by other users; narrowed its mode',
    );
    repaired.push(path);
  };
  await narrow(data, PRIVATE_DIR);
  for (const name of DATA_FILES) await narrow(join(data, name), PRIVATE_FILE);
  // The storage tree can hold millions of files; its root and first level are narrowed, the rest
  // is unreachable to others anyway once the data directory is 0700.
  const storage = join(data, 'storage');
  await narrow(storage, PRIVATE_DIR);
  const entries = await readdir(storage, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    await narrow(join(storage, entry.name), entry.isDirectory() ? PRIVATE_DIR : PRIVATE_FILE);
  }
  return repaired;
}
