import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';

/**
 * Code and docs cite the design by section number ("docs/design.md §2"). This
 * holds every such citation to docs/design.md: a citation of a section the file
 * does not have (renumbered, removed, or a typo) fails here, naming the file and
 * line, so the design the code points to is always the one in the repository.
 * The older form "DESIGN §N" named a file the repository never had; it is
 * refused too, so it does not come back.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const DESIGN = 'docs/design.md';
/** Generated or installed trees: not ours to cite from. */
const SKIPPED = new Set(['node_modules', 'dist', '.git', 'reports', join('libs', 'contracts')]);
/** The citing name, then one or more section numbers: "design.md §N", "design.md §N/§M", "design.md §N and §M". */
const CITATION = /\b(design\.md|DESIGN)\s+(§\d+(?:\s*(?:\/|,|and|or|–|-)\s*§\d+)*)/g;

interface Citation {
  where: string;
  form: string;
  sections: number[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (SKIPPED.has(relative(ROOT, path))) return [];
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : sourceFiles(path);
    return /\.(ts|md|proto)$/.test(entry.name) ? [path] : [];
  });
}

function citations(): Citation[] {
  const found: Citation[] = [];
  for (const file of sourceFiles(ROOT)) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        for (const match of line.matchAll(CITATION)) {
          const sections = [...match[2]!.matchAll(/§(\d+)/g)].map((m) => Number(m[1]));
          found.push({ where: `${relative(ROOT, file)}:${index + 1}`, form: match[1]!, sections });
        }
      });
  }
  return found;
}

/** The numbers of docs/design.md's sections: its "## N. Title" headings. */
function designSections(): Set<number> {
  const text = readFileSync(join(ROOT, DESIGN), 'utf8');
  return new Set([...text.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1])));
}

describe('design citations', () => {
  const sections = designSections();
  const cited = citations();

  it('docs/design.md has numbered sections, and the code cites them', () => {
    expect([...sections], `no "## N. Title" headings in ${DESIGN}`).to.include.members([1, 2, 3]);
    const fromCode = cited.filter((c) => /\.ts:\d+$/.test(c.where));
    expect(fromCode.length, 'no .ts file cites docs/design.md').to.be.greaterThan(0);
  });

  it('every "design.md §N" citation names a section docs/design.md has', () => {
    const broken = cited.flatMap((c) =>
      c.sections.filter((n) => !sections.has(n)).map((n) => `${c.where}: §${n} (${DESIGN} has §${[...sections].join(', §')})`),
    );
    expect(broken, 'citations of sections that do not exist').to.deep.equal([]);
  });

  it('nothing cites the design as "DESIGN §N", a file the repository does not have', () => {
    const old = cited.filter((c) => c.form === 'DESIGN').map((c) => `${c.where}: write "docs/design.md §${c.sections[0]}"`);
    expect(old).to.deep.equal([]);
  });
});
