import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { INVENTORY_EVENTS, ORDER_EVENTS, type EventSpec } from '../../catalog.js';
import { INVENTORY_STREAM, ORDERS_STREAM, type StreamSpec } from '../../streams.js';
import { subjectMatches } from '../../subjects.js';

/** `// Subject <subject>: …` comments and the message each precedes, from one events.proto. */
function publishedSubjects(protoFile: string): Map<string, string> {
  const source = readFileSync(new URL(`../../../../proto/${protoFile}`, import.meta.url), 'utf8');
  const pkg = /^package ([\w.]+);/m.exec(source)![1];
  const found = new Map<string, string>();
  for (const match of source.matchAll(/^\/\/ Subject ([\w.]+):[^\n]*\n(?:\/\/[^\n]*\n)*message (\w+) \{/gm)) {
    found.set(`${pkg}.${match[2]}`, match[1]!);
  }
  return found;
}

const CASES: [string, Record<string, EventSpec>, StreamSpec][] = [
  ['larder/inventory/v1/events.proto', INVENTORY_EVENTS, INVENTORY_STREAM],
  ['larder/order/v1/events.proto', ORDER_EVENTS, ORDERS_STREAM],
];

describe('libs/events/catalog', () => {
  for (const [protoFile, catalog, stream] of CASES) {
    describe(protoFile, () => {
      const published = publishedSubjects(protoFile);

      it('lists every message of the file under the subject its comment publishes, and nothing else', () => {
        expect(published.size, 'messages with a "Subject" comment').to.be.greaterThan(0);
        const listed = new Map(Object.values(catalog).map((spec) => [spec.type, spec.subject]));
        expect(listed).to.deep.equal(published);
      });

      it(`puts every subject on the ${stream.name} stream, each once`, () => {
        const subjects = Object.values(catalog).map((spec) => spec.subject);
        expect(new Set(subjects).size).to.equal(subjects.length);
        for (const subject of subjects)
          expect(
            stream.subjects.some((filter) => subjectMatches(filter, subject)),
            subject,
          ).to.equal(true);
      });
    });
  }
});
