import { loadConfig } from '@arc/config';
import { CommandUsageError } from './command-text.js';

/** An --url option's value, checked: http or https, no trailing slash. */
export function checkedServerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CommandUsageError(`option '--url' must be an http:// or https:// URL, got '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CommandUsageError(`option '--url' must be an http:// or https:// URL, got '${text}'`);
  return url.href.replace(/\/+$/, '');
}

/**
 * `--url`, else the server this host's configuration runs (`server.port` of arc.conf and ARC_*):
 * commands that talk to a running server find a local one without being told where.
 */
export function serverUrlOf(url: string | null, configPath: string | undefined): string {
  if (url !== null) return url;
  return `http://127.0.0.1:${String(loadConfig({ configPath }).server.port)}`;
}
