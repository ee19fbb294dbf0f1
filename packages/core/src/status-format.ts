import type { ServerStatus } from './protocol/sync.js';

/** `RUNNING(00:12:03)`: a status with the time spent in it, as the status table shows it. */
export function statusWithDuration(status: ServerStatus, since: string | null, now = Date.now()): string {
  if (!since) return status;
  const seconds = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const hours = Math.floor(seconds / 3600);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${status}(${pad(hours)}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)})`;
}

/** A plain text table, columns padded to their widest cell. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
