import { expect } from 'chai';
import { ConfigError } from '#libs/config/env.js';
import { readTracingConfig } from '../../tracing-config.js';

describe('readTracingConfig (OTEL_* variables)', () => {
  it('is off when OTEL_TRACES_EXPORTER is unset, even with an endpoint (the SDK alone would default to otlp)', () => {
    expect(readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, 'order').enabled).to.equal(false);
  });

  it('is on for otlp or console, off for none', () => {
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp' }, 'order').enabled).to.equal(true);
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'console,otlp' }, 'order').enabled).to.equal(true);
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'none' }, 'order').enabled).to.equal(false);
  });

  it('is off when OTEL_SDK_DISABLED=true, whatever the exporter', () => {
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }, 'order').enabled).to.equal(false);
    expect(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' }, 'order').enabled).to.equal(true);
  });

  it('names the service after itself unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES does', () => {
    expect(readTracingConfig({}, 'inventory').serviceName).to.equal('inventory');
    expect(readTracingConfig({ OTEL_SERVICE_NAME: 'inventory-eu' }, 'inventory').serviceName).to.equal('inventory-eu');
    expect(readTracingConfig({ OTEL_RESOURCE_ATTRIBUTES: 'team=x,service.name=inv' }, 'inventory').serviceName).to.equal(undefined);
  });

  const refuses = (env: Record<string, string>, variable: string) => {
    try {
      readTracingConfig(env, 'order');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).variable).to.equal(variable);
      return;
    }
    expect.fail(`accepted ${JSON.stringify(env)}`);
  };

  it('refuses a misspelt exporter, none with others, an unknown protocol, a bad endpoint, a bad boolean', () => {
    refuses({ OTEL_TRACES_EXPORTER: 'otpl' }, 'OTEL_TRACES_EXPORTER');
    refuses({ OTEL_TRACES_EXPORTER: 'none,otlp' }, 'OTEL_TRACES_EXPORTER');
    refuses({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http' }, 'OTEL_EXPORTER_OTLP_PROTOCOL');
    refuses({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'json' }, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL');
    refuses({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    refuses({ OTEL_SDK_DISABLED: 'maybe' }, 'OTEL_SDK_DISABLED');
  });
});
