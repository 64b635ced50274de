import { expect } from 'chai';
import { ConfigError, type Env } from '../../env.js';
import { readTestCommonConfig as read } from './read-common.js';

function refusal(env: Env): ConfigError {
  try {
    read(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('NATS settings (libs/config/common)', () => {
  it('defaults to one local server and unreplicated streams', () => {
    const config = read({});
    expect(config.natsServers).to.deep.equal(['nats://127.0.0.1:4222']);
    expect(config.natsStreamReplicas).to.equal(1);
  });

  it('reads NATS_URL as a comma-separated list of every server of a cluster, in order, spaces trimmed', () => {
    const config = read({ NATS_URL: 'nats://a:4222, tls://b:4223 ,nats://user:pw@c:4224' });
    expect(config.natsServers).to.deep.equal(['nats://a:4222', 'tls://b:4223', 'nats://user:pw@c:4224']);
  });

  const badLists: [string, string][] = [
    ['nats://a:4222,http://b:4222', 'entry 2 must use nats: or tls:'],
    ['nats://a:4222,,nats://c:4222', 'empty entry'],
    ['nats://a:4222,', 'empty entry'],
    ['not a url', 'must be a URL'],
    ['nats://a:4222,b:4222 x', 'entry 2 must'],
  ];
  for (const [value, why] of badLists) {
    it(`refuses NATS_URL=${JSON.stringify(value)}, naming NATS_URL and saying "${why}"`, () => {
      const error = refusal({ NATS_URL: value });
      expect(error.variable).to.equal('NATS_URL');
      expect(error.message).to.match(/^NATS_URL: /);
      expect(error.message).to.contain(why);
    });
  }

  it('does not echo the credentials of an entry with the wrong scheme', () => {
    expect(refusal({ NATS_URL: 'nats://a:4222,http://user:secret-pw@b:4222' }).message).not.to.contain('secret-pw');
  });

  it('reads NATS_STREAM_REPLICAS from 1 to 5', () => {
    expect(read({ NATS_STREAM_REPLICAS: '3' }).natsStreamReplicas).to.equal(3);
    expect(read({ NATS_STREAM_REPLICAS: '1' }).natsStreamReplicas).to.equal(1);
    expect(read({ NATS_STREAM_REPLICAS: '5' }).natsStreamReplicas).to.equal(5);
  });

  for (const value of ['0', '6', '-1', '2.5', 'three']) {
    it(`refuses NATS_STREAM_REPLICAS=${value}, naming it`, () => {
      const error = refusal({ NATS_STREAM_REPLICAS: value });
      expect(error.variable).to.equal('NATS_STREAM_REPLICAS');
      expect(error.message).to.match(/^NATS_STREAM_REPLICAS: /);
    });
  }
});
