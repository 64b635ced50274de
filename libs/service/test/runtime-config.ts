import type { CommonConfig } from '#libs/config/common.js';

/** A runtime's settings for a test: its own database and broker, quiet logs, short grace and drain, a small pool. */
export function testRuntimeConfig(options: {
  databaseUrl: string;
  natsUrl: string;
  grpcPort?: number;
  metricsPort?: number;
}): CommonConfig {
  return {
    production: false,
    databaseUrl: options.databaseUrl,
    dbPreparedStatements: true,
    natsServers: [options.natsUrl],
    natsStreamReplicas: 1,
    grpcHost: '127.0.0.1',
    grpcPort: options.grpcPort ?? 0,
    metricsPort: options.metricsPort ?? 0,
    logLevel: 'silent',
    apiKeys: [],
    shutdownGraceMs: 500,
    outboxDrainMs: 500,
    dbPoolMax: 2,
  };
}
