// Images travel as `data:` URLs in OpenAI and as (mediaType, base64) pairs in Anthropic and Gemini; these
// two functions are the only conversion between the two.

import type { ImageSource } from '../canonical';

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,/i;

/** A `data:<type>;base64,<data>` URL becomes an inline source; any other URL stays a URL. */
export function imageSourceFromUrl(url: string): ImageSource {
  const match = DATA_URL.exec(url);
  if (!match) return { kind: 'url', url };
  return { kind: 'base64', mediaType: match[1].toLowerCase(), data: url.slice(match[0].length) };
}

export function imageSourceToUrl(source: ImageSource): string {
  return source.kind === 'url' ? source.url : `data:${source.mediaType};base64,${source.data}`;
}
