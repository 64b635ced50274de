import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { pino } from 'pino';
import { toServiceError } from '#libs/grpc/status.js';
import { naturalBatches } from '../../natural-batches.js';

/** A deferred answer for the first batch, so the members submitted meanwhile gather into the next one. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Outcome of each submitted member, in submission order: `ok:<verdict>` or `error:<message>`. */
const settled = (verdicts: Promise<unknown>[]) =>
  Promise.all(
    verdicts.map((p) =>
      p.then(
        (v) => `ok:${String(v)}`,
        (e: Error) => `error:${e.message}`,
      ),
    ),
  );

/**
 * Three members in one batch after a first lone one: the run answers the lone
 * member with its verdict and the batch of three with `answer(members)`.
 */
async function batchOfThree(answer: (members: readonly string[]) => string[]) {
  const first = gate();
  const runs: string[][] = [];
  const batches = naturalBatches<string, string>({
    maxBatch: 10,
    maxInFlight: 1,
    async run(members) {
      runs.push([...members]);
      if (runs.length === 1) {
        await first.opened;
        return members.map((m) => `v-${m}`);
      }
      return answer(members);
    },
  });
  const verdicts = ['a', 'b', 'c', 'd'].map((m) => batches.submit(m));
  first.open();
  return { outcomes: await settled(verdicts), runs };
}

describe('libs/batching/natural-batches', () => {
  it('resolves each member with its own verdict, in order', async () => {
    const { outcomes, runs } = await batchOfThree((members) => members.map((m) => `v-${m}`));
    expect(runs).to.deep.equal([['a'], ['b', 'c', 'd']]);
    expect(outcomes).to.deep.equal(['ok:v-a', 'ok:v-b', 'ok:v-c', 'ok:v-d']);
  });

  it('a statement that returns fewer verdicts than members fails every member of that batch, and runs nothing again', async () => {
    const { outcomes, runs } = await batchOfThree((members) => members.slice(0, 2).map((m) => `v-${m}`));
    const error = 'error:a batch of 3 members got 2 verdicts from its statement';
    expect(outcomes).to.deep.equal(['ok:v-a', error, error, error]);
    // The statement ran (and committed): running members alone again could apply them twice.
    expect(runs).to.deep.equal([['a'], ['b', 'c', 'd']]);
  });

  it('a statement that returns more verdicts than members fails every member of that batch', async () => {
    const { outcomes } = await batchOfThree((members) => [...members, 'extra'].map((m) => `v-${m}`));
    const error = 'error:a batch of 3 members got 4 verdicts from its statement';
    expect(outcomes).to.deep.equal(['ok:v-a', error, error, error]);
  });

  it('a member run alone after a failed batch gets no undefined verdict either', async () => {
    const first = gate();
    let calls = 0;
    const batches = naturalBatches<string, string>({
      maxBatch: 10,
      maxInFlight: 1,
      async run(members) {
        calls += 1;
        if (calls === 1) {
          await first.opened;
          return ['v-a'];
        }
        if (members.length > 1) throw new Error('the batch statement failed');
        return members[0] === 'b' ? [] : [`v-${members[0]}`];
      },
    });
    const verdicts = ['a', 'b', 'c'].map((m) => batches.submit(m));
    first.open();
    expect(await settled(verdicts)).to.deep.equal(['ok:v-a', 'error:a batch of 1 members got 0 verdicts from its statement', 'ok:v-c']);
  });

  it('the mismatch reaches the caller as INTERNAL with a generic message (a server bug, not the caller’s input)', async () => {
    const batches = naturalBatches<string, string>({ maxBatch: 10, maxInFlight: 1, run: async () => [] });
    const error: unknown = await batches.submit('a').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
    expect(toServiceError(error, pino({ level: 'silent' }))).to.deep.equal({ code: Code.INTERNAL, details: 'internal error' });
  });
});
