import { describe, expect, it } from 'vitest';
import { serviceFiles } from './service-files.js';

describe('serviceFiles', () => {
  it("finds config.yaml and the Prisma files beside the service's src/", () => {
    expect(serviceFiles('file:///srv/services/user-service/src/config.ts')).toEqual({
      configFile: '/srv/services/user-service/config.yaml',
      migrationsDir: '/srv/services/user-service/prisma/migrations',
      prismaSchema: '/srv/services/user-service/prisma/schema.prisma',
    });
  });
});
