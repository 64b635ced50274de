import { expect } from 'chai';
import { ConfigError } from '#libs/config/env.js';
import { parseGrpcTarget } from '#libs/config/grpc-target.js';

const parse = (value: string) => parseGrpcTarget('INVENTORY_ADDR', value);

function refusal(value: string): string {
  try {
    parse(value);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).variable).to.equal('INVENTORY_ADDR');
    return (error as ConfigError).message;
  }
  throw new Error(`expected "${value}" to be refused`);
}

describe('parseGrpcTarget', () => {
  describe('accepts', () => {
    it('one host:port as it is (a name resolves by DNS to every address it has)', () => {
      expect(parse('inventory:50051')).to.equal('inventory:50051');
      expect(parse('127.0.0.1:50051')).to.equal('127.0.0.1:50051');
      expect(parse('inventory.larder.svc.cluster.local:50051')).to.equal('inventory.larder.svc.cluster.local:50051');
      expect(parse('[::1]:50051')).to.equal('[::1]:50051');
    });

    it('a list of IPv4 addresses as an ipv4: target, spaces around entries dropped', () => {
      expect(parse('127.0.0.1:5001,127.0.0.1:5002')).to.equal('ipv4:127.0.0.1:5001,127.0.0.1:5002');
      expect(parse('10.0.0.1:50051, 10.0.0.2:50051 ,10.0.0.3:50051')).to.equal('ipv4:10.0.0.1:50051,10.0.0.2:50051,10.0.0.3:50051');
    });

    it('a list of IPv6 addresses as an ipv6: target', () => {
      expect(parse('[::1]:5001,[fe80::1]:5002')).to.equal('ipv6:[::1]:5001,[fe80::1]:5002');
    });

    it('dns:///host:port', () => {
      expect(parse('dns:///inventory-headless:50051')).to.equal('dns:///inventory-headless:50051');
      expect(parse('dns:///10.0.0.1:50051')).to.equal('dns:///10.0.0.1:50051');
    });
  });

  describe('refuses, naming INVENTORY_ADDR and the value', () => {
    const cases: [string, string, RegExp][] = [
      ['an empty entry', '127.0.0.1:5001,,127.0.0.1:5002', /entry 2 of the list is empty/],
      ['a trailing comma', '127.0.0.1:5001,', /entry 2 of the list is empty/],
      ['a missing port', 'inventory', /has no port/],
      ['a port out of range', '127.0.0.1:70000', /port must be 1–65535/],
      ['port 0', '127.0.0.1:0', /port must be 1–65535/],
      ['a non-numeric port', 'inventory:grpc', /port must be 1–65535/],
      ['an empty port', 'inventory:', /port must be 1–65535/],
      ['names in a list', 'inventory-a:50051,inventory-b:50051', /IP addresses only; for a name use dns:\/\/\//],
      ['a name among IPs', '127.0.0.1:5001,inventory:5002', /IP addresses only/],
      ['IPv4 and IPv6 mixed', '127.0.0.1:5001,[::1]:5002', /cannot mix IPv4 and IPv6/],
      ['a repeated address', '127.0.0.1:5001,127.0.0.1:5001', /127\.0\.0\.1:5001 is listed twice/],
      ['dns:/// in a list', '127.0.0.1:5001,dns:///inventory:50051', /cannot mix dns:\/\/\//],
      ['a list after dns:///', 'dns:///inventory:50051,127.0.0.1:5002', /dns:\/\/\/ target names one host/],
      ['a DNS authority', 'dns://8.8.8.8/inventory:50051', /no DNS server authority/],
      ['dns: without slashes', 'dns:inventory:50051', /no DNS server authority/],
      ['an unknown scheme', 'http://inventory:50051', /scheme "http:" is not supported/],
      ["grpc-js's own ipv4: scheme", 'ipv4:127.0.0.1:5001', /scheme "ipv4:" is not supported/],
      ['a unix socket', 'unix:/run/inventory.sock', /scheme "unix:" is not supported/],
      ['bare IPv6', '::1:50051', /in brackets/],
      ['an IPv4 address in brackets', '[127.0.0.1]:50051', /only an IPv6 address goes in brackets/],
      ['garbage', 'not an address', /has no port/],
      ['a host with a space', 'inven tory:50051', /"inven tory" is not a host name/],
      ['a host name with an underscore', 'inventory_a:50051', /not a host name/],
    ];
    for (const [what, value, why] of cases) {
      it(`${what}: "${value}"`, () => {
        const message = refusal(value);
        expect(message).to.match(/^INVENTORY_ADDR: /);
        expect(message).to.match(why);
        expect(message).to.include(`got "${value}"`);
      });
    }
  });
});
