import { readCommonConfig, type CommonConfig, type CommonDefaults } from '../../common.js';
import { envReader, type Env } from '../../env.js';

const DEFAULTS: CommonDefaults = {
  database: 'larder_test',
  grpcPort: 50051,
  metricsPort: 9464,
  developmentApiKeys: 'dev=dev-key-0123456789:*',
  scopes: ['*'],
};

/** The settings every service reads, from `env` alone, as a unit test needs them. */
export const readTestCommonConfig = (env: Env): CommonConfig => readCommonConfig(envReader(env), DEFAULTS);
