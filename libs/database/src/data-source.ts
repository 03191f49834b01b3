import { Client } from 'pg';
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';

export interface ServiceDataSourceOptions {
  url: string;
  /** The service's own schema: every table, and its migrations table, lives there. */
  schema: string;
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
  poolSize?: number;
  applicationName?: string;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

function assertIdentifier(kind: string, value: string): void {
  if (!identifier.test(value)) throw new Error(`${kind} "${value}" is not a plain lower-case SQL identifier`);
}

/** Creates the database named in `url` when it does not exist (connecting to the `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  assertIdentifier('database', name);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (e) {
        // Two services starting at once may race to create it; losing that race is fine.
        if ((e as { code?: string }).code !== '42P04') throw e;
      }
    }
  } finally {
    await client.end();
  }
}

export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  assertIdentifier('schema', options.schema);
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // Off: TypeORM's error logging prints the failed query WITH its parameters (password hashes, token
    // hashes). Failures propagate to the caller, which logs what is safe to log.
    logging: false,
    applicationName: options.applicationName ?? `torouter-${options.schema}`,
    extra: { max: options.poolSize ?? 10 },
  });
}

/**
 * Brings a service's schema up to date. The schema is created first because TypeORM keeps its migrations
 * table inside it. Returns the names of the migrations that ran.
 */
export async function migrateServiceSchema(dataSource: DataSource): Promise<string[]> {
  const schema = (dataSource.options as { schema?: string }).schema;
  if (!schema) throw new Error('a service data source must name its schema');
  const initialised = dataSource.isInitialized;
  if (!initialised) await dataSource.initialize();
  try {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    if (!initialised) await dataSource.destroy();
  }
}

/** Drops a whole database; for tests that made their own. */
export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  assertIdentifier('database', name);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
