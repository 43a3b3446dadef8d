/**
 * Writes examples/data/fortunes.csv (text, category) from Debian's `fortunes` package: each
 * fortune file is a category, each `%`-separated entry a document.
 *
 *   apt-get install -y fortunes   # provides /usr/share/games/fortunes/
 *   npx tsx examples/data/derive-fortunes.ts
 *
 * Overstrike sequences and control characters are removed and whitespace is collapsed to single
 * spaces (one document per CSV line); exact duplicates and entries shorter than 20 characters are
 * dropped; each category keeps at most PER_CATEGORY entries, drawn with a seeded shuffle, in
 * their file order. Source and license:
 * examples/data/README.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '@pipewright/stages';

const SOURCE = '/usr/share/games/fortunes';
const CATEGORIES = ['computers', 'science', 'law', 'food', 'sports'];
const PER_CATEGORY = 400;
const SEED = 20_240_620;


const random = mulberry32(SEED);
const seen = new Set<string>();
const lines = ['text,category'];
for (const category of CATEGORIES) {
  const entries = readFileSync(`${SOURCE}/${category}`, 'latin1')
    .split(/^%$/m)
    // Overstriking (`_\bX` underlines X on a terminal): keep what would be printed last.
    .map((entry) => entry.replace(/[^\n]\x08/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ' '))
    .map((entry) => entry.replace(/\s+/g, ' ').trim())
    .filter((entry) => entry.length >= 20 && !seen.has(entry) && seen.add(entry));
  const order = entries.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const kept = order.slice(0, PER_CATEGORY).sort((a, b) => a - b);
  for (const i of kept) lines.push(`"${entries[i]!.replace(/"/g, '""')}",${category}`);
  console.info(`${category}: ${kept.length} of ${entries.length}`);
}
const out = fileURLToPath(new URL('./fortunes.csv', import.meta.url));
writeFileSync(out, `${lines.join('\n')}\n`);
console.info(`wrote ${lines.length - 1} documents to ${out}`);
