import { fileURLToPath } from 'node:url';

/** Where a service keeps its files, from the import.meta.url of its src/config.ts. */
export function serviceFiles(configModuleUrl: string) {
  const at = (path: string) => fileURLToPath(new URL(path, configModuleUrl));
  return {
    configFile: at('../config.yaml'),
    migrationsDir: at('../prisma/migrations'),
    prismaSchema: at('../prisma/schema.prisma'),
  };
}
