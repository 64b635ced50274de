import { ConfigError, envReader, type Env } from '#libs/config/env.js';

/** OTEL_TRACES_EXPORTER values we accept; the SDK maps each to its exporter. */
export const TRACES_EXPORTERS = ['otlp', 'console', 'none'] as const;
/** OTEL_EXPORTER_OTLP_PROTOCOL values the SDK's bundled OTLP exporters speak. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

export interface TracingConfig {
  /**
   * Tracing is off unless asked for: on only when OTEL_TRACES_EXPORTER names an
   * exporter (not `none`) and OTEL_SDK_DISABLED is not true. Off, the SDK is not
   * even loaded and nothing is patched. (The SDK on its own would default to otlp.)
   */
  enabled: boolean;
  /**
   * service.name for the SDK to set: OTEL_SERVICE_NAME, else the service's own
   * name; undefined when OTEL_RESOURCE_ATTRIBUTES already names it (it wins then).
   */
  serviceName?: string;
}

/**
 * Reads the standard OTEL_* variables (the SDK reads them again itself; this
 * decides whether to start it and refuses values the SDK would only warn about
 * and then silently export nothing, such as a misspelt exporter).
 */
export function readTracingConfig(env: Env, defaultServiceName: string): TracingConfig {
  const read = envReader(env);
  const disabled = read.bool('OTEL_SDK_DISABLED', false);
  const exporters = (read.raw('OTEL_TRACES_EXPORTER') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of exporters) {
    if (!(TRACES_EXPORTERS as readonly string[]).includes(name)) {
      throw new ConfigError('OTEL_TRACES_EXPORTER', `must be a list of ${TRACES_EXPORTERS.join(', ')}, got "${name}"`);
    }
  }
  if (exporters.includes('none') && exporters.length > 1) {
    throw new ConfigError('OTEL_TRACES_EXPORTER', `"none" cannot be combined with other exporters, got "${exporters.join(',')}"`);
  }
  for (const variable of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) {
    if (read.raw(variable) !== undefined) read.oneOf(variable, OTLP_PROTOCOLS, 'http/protobuf');
  }
  for (const variable of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    if (read.raw(variable) !== undefined) read.url(variable, ['http:', 'https:']);
  }
  const enabled = !disabled && exporters.length > 0 && !exporters.includes('none');
  const namedInAttributes = /(^|,)\s*service\.name\s*=/.test(read.raw('OTEL_RESOURCE_ATTRIBUTES') ?? '');
  const serviceName = read.raw('OTEL_SERVICE_NAME') ?? (namedInAttributes ? undefined : defaultServiceName);
  return { enabled, serviceName };
}
