export { createTestDatabase, type TestDatabase } from './create-test-database.ts';
export { databaseUrlFor } from './database-url.ts';
export { cleanupRedisPrefix, testQueuePrefix, testRedisUrl } from './test-redis.ts';
export {
  canConnect,
  resolveTestServices,
  type ResolveTestServicesOptions,
  type TestServices,
  type TestServiceSource,
} from './test-services.ts';
export { ensureTemplateDatabase, templateDatabaseName } from './template-database.ts';
export { freePort } from './free-port.ts';
