/** The last bytes of a log file, for error messages. */
import { open } from 'node:fs/promises';

/** Up to `bytes` from the end of `file`; empty when it does not exist. */
export async function logTail(file: string, bytes = 2048): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, bytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
