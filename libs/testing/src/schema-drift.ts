import { readFileSync } from 'node:fs';
import prismaSchemaWasm from '@prisma/prisma-schema-wasm';
import type pg from 'pg';

/**
 * Compares a migrated Postgres schema with a Prisma schema: tables, columns (type with native
 * type, nullability, whether a default exists), primary keys, unique indexes, @@index indexes and
 * enums. Hand-written migrations drift silently; this makes the drift a failing test.
 */
export interface SchemaDriftOptions {
  pool: pg.Pool;
  /** The Postgres schema the migrations were applied to. */
  schema: string;
  prismaSchemaPath: string;
}

/** Every difference as one readable line; empty when the database matches the Prisma schema. */
export async function findSchemaDrift(options: SchemaDriftOptions): Promise<string[]> {
  const expected = expectedSchema(readFileSync(options.prismaSchemaPath, 'utf8'));
  const actual = await actualSchema(options.pool, options.schema);
  return compare(expected, actual);
}

export async function assertNoSchemaDrift(options: SchemaDriftOptions): Promise<void> {
  const drift = await findSchemaDrift(options);
  if (drift.length > 0) {
    throw new Error(
      `schema "${options.schema}" differs from ${options.prismaSchemaPath}:\n  - ${drift.join('\n  - ')}`,
    );
  }
}

interface Column {
  type: string;
  nullable: boolean;
  hasDefault: boolean;
}

interface Table {
  columns: Map<string, Column>;
  /** `primary key "users_pkey" (id)`, `unique index "users_email_key" (email)`, `index "x" (a, b)`. */
  keys: Set<string>;
}

interface Schema {
  tables: Map<string, Table>;
  enums: Map<string, string[]>;
}

// ---- the Prisma side, from the schema's DMMF -------------------------------------------------

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'enum' | 'object' | 'unsupported';
  type: string;
  isList: boolean;
  isRequired: boolean;
  isUpdatedAt: boolean;
  nativeType?: [string, string[]] | null;
  default?: unknown;
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
}

interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  fields: Array<{ name: string }>;
}

interface Dmmf {
  datamodel: {
    models: DmmfModel[];
    enums: Array<{
      name: string;
      dbName: string | null;
      values: Array<{ name: string; dbName: string | null }>;
    }>;
    indexes: DmmfIndex[];
  };
}

const PRISMA_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

const withPrecision = (base: string, zone: string) => (args: string[]) =>
  args[0] === undefined ? `${base} ${zone}` : `${base}(${args[0]}) ${zone}`;

/** `@db.X(args)` as Postgres's format_type() prints it. */
const NATIVE_TYPES: Record<string, (args: string[]) => string> = {
  Uuid: () => 'uuid',
  Text: () => 'text',
  VarChar: (a) => (a[0] === undefined ? 'character varying' : `character varying(${a[0]})`),
  Char: (a) => `character(${a[0] ?? 1})`,
  Citext: () => 'citext',
  Integer: () => 'integer',
  SmallInt: () => 'smallint',
  BigInt: () => 'bigint',
  Oid: () => 'oid',
  Real: () => 'real',
  DoublePrecision: () => 'double precision',
  Decimal: (a) => (a.length === 0 ? 'numeric' : `numeric(${a.join(',')})`),
  Money: () => 'money',
  Boolean: () => 'boolean',
  Timestamp: withPrecision('timestamp', 'without time zone'),
  Timestamptz: withPrecision('timestamp', 'with time zone'),
  Time: withPrecision('time', 'without time zone'),
  Timetz: withPrecision('time', 'with time zone'),
  Date: () => 'date',
  Json: () => 'json',
  JsonB: () => 'jsonb',
  ByteA: () => 'bytea',
  Xml: () => 'xml',
  Inet: () => 'inet',
  Bit: (a) => `bit(${a[0] ?? 1})`,
  VarBit: (a) => (a[0] === undefined ? 'bit varying' : `bit varying(${a[0]})`),
};

/** Defaults Prisma Client fills in itself: the column has none. */
const CLIENT_SIDE_DEFAULTS = new Set(['uuid', 'cuid', 'nanoid', 'ulid']);

function expectedSchema(prismaSchema: string): Schema {
  const dmmf = JSON.parse(prismaSchemaWasm.get_dmmf(JSON.stringify({ prismaSchema }))) as Dmmf;
  const enumNames = new Map(dmmf.datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const enums = new Map(
    dmmf.datamodel.enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)]),
  );
  const tables = new Map<string, Table>();
  for (const model of dmmf.datamodel.models) {
    const table = model.dbName ?? model.name;
    const columnOf = new Map(model.fields.map((f) => [f.name, f.dbName ?? f.name]));
    const columns = new Map<string, Column>();
    for (const field of model.fields) {
      if (field.kind !== 'scalar' && field.kind !== 'enum') continue;
      columns.set(field.dbName ?? field.name, {
        type: columnType(field, enumNames),
        nullable: !field.isRequired,
        hasDefault: hasDatabaseDefault(field),
      });
    }
    const keys = new Set<string>();
    for (const index of dmmf.datamodel.indexes.filter(
      (i) => i.model === model.name && i.type !== 'fulltext',
    )) {
      const cols = index.fields.map((f) => columnOf.get(f.name) ?? f.name);
      const name =
        index.dbName ??
        (index.type === 'id' ? model.primaryKey?.name : undefined) ??
        defaultIndexName(table, cols, index.type);
      keys.add(
        describeKey(
          index.type === 'id' ? 'primary key' : index.type === 'unique' ? 'unique index' : 'index',
          name,
          cols,
        ),
      );
    }
    tables.set(table, { columns, keys });
  }
  return { tables, enums };
}

function columnType(field: DmmfField, enumNames: Map<string, string>): string {
  let type: string;
  if (field.kind === 'enum') type = enumNames.get(field.type) ?? field.type;
  else if (field.nativeType) {
    const [name, args] = field.nativeType;
    type = NATIVE_TYPES[name]?.(args) ?? `${name.toLowerCase()}(${args.join(',')})`;
  } else type = PRISMA_TYPES[field.type] ?? field.type.toLowerCase();
  return field.isList ? `${type}[]` : type;
}

function hasDatabaseDefault(field: DmmfField): boolean {
  if (field.default === undefined || field.default === null || field.isUpdatedAt) return false;
  const fn = field.default as { name?: unknown };
  return !(
    typeof fn === 'object' &&
    typeof fn.name === 'string' &&
    CLIENT_SIDE_DEFAULTS.has(fn.name)
  );
}

/** Prisma's naming: `<table>_<columns>_<suffix>`, the front cut so the whole fits 63 characters. */
function defaultIndexName(table: string, columns: string[], type: DmmfIndex['type']): string {
  if (type === 'id') return `${table}_pkey`.slice(0, 63);
  const suffix = type === 'unique' ? 'key' : 'idx';
  return `${[table, ...columns].join('_').slice(0, 63 - suffix.length - 1)}_${suffix}`;
}

const describeKey = (kind: string, name: string, columns: string[]): string =>
  `${kind} "${name}" (${columns.join(', ')})`;

// ---- the database side, from pg_catalog ---------------------------------------------------------

const IGNORED_TABLES = new Set(['_prisma_migrations']);

async function actualSchema(pool: pg.Pool, schema: string): Promise<Schema> {
  const tables = new Map<string, Table>();
  const tableOf = (name: string): Table => {
    let table = tables.get(name);
    if (!table) tables.set(name, (table = { columns: new Map(), keys: new Set() }));
    return table;
  };

  const { rows: tableRows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
    [schema],
  );
  for (const row of tableRows) if (!IGNORED_TABLES.has(row.name)) tableOf(row.name);

  const { rows: columnRows } = await pool.query<{
    table: string;
    column: string;
    type: string;
    nullable: boolean;
    has_default: boolean;
  }>(
    `SELECT c.relname AS table, a.attname AS column,
            CASE WHEN t.typtype = 'e' THEN t.typname
                 WHEN e.typtype = 'e' THEN e.typname || '[]'
                 ELSE format_type(a.atttypid, a.atttypmod) END AS type,
            NOT a.attnotnull AS nullable, a.atthasdef AS has_default
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_type t ON t.oid = a.atttypid
     LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema],
  );
  for (const row of columnRows) {
    if (IGNORED_TABLES.has(row.table)) continue;
    tableOf(row.table).columns.set(row.column, {
      type: row.type,
      nullable: row.nullable,
      hasDefault: row.has_default,
    });
  }

  const { rows: indexRows } = await pool.query<{
    table: string;
    name: string;
    primary: boolean;
    unique: boolean;
    columns: string[];
  }>(
    `SELECT t.relname AS table, i.relname AS name, x.indisprimary AS primary, x.indisunique AS unique,
            array(SELECT coalesce(a.attname::text, '<expression>')
                  FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                  LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                  ORDER BY k.ord) AS columns
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = $1`,
    [schema],
  );
  for (const row of indexRows) {
    if (IGNORED_TABLES.has(row.table)) continue;
    const kind = row.primary ? 'primary key' : row.unique ? 'unique index' : 'index';
    tableOf(row.table).keys.add(describeKey(kind, row.name, row.columns));
  }

  const { rows: enumRows } = await pool.query<{ name: string; labels: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
     FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = $1 GROUP BY t.typname`,
    [schema],
  );
  return { tables, enums: new Map(enumRows.map((r) => [r.name, r.labels])) };
}

// ---- the comparison -----------------------------------------------------------------------------

function compare(expected: Schema, actual: Schema): string[] {
  const drift: string[] = [];
  for (const [name, table] of expected.tables) {
    const found = actual.tables.get(name);
    if (!found) drift.push(`table "${name}" is missing`);
    else drift.push(...compareTable(name, table, found));
  }
  for (const name of actual.tables.keys()) {
    if (!expected.tables.has(name)) drift.push(`table "${name}" exists but no model maps to it`);
  }
  for (const [name, values] of expected.enums) {
    const found = actual.enums.get(name);
    if (!found) drift.push(`enum "${name}" is missing`);
    else if (found.join(',') !== values.join(',')) {
      drift.push(
        `enum "${name}" has values (${found.join(', ')}), the schema says (${values.join(', ')})`,
      );
    }
  }
  for (const name of actual.enums.keys()) {
    if (!expected.enums.has(name))
      drift.push(`enum "${name}" exists but the schema has no such enum`);
  }
  return drift;
}

function compareTable(name: string, expected: Table, actual: Table): string[] {
  const drift: string[] = [];
  for (const [column, want] of expected.columns) {
    const got = actual.columns.get(column);
    const where = `column "${name}"."${column}"`;
    if (!got) {
      drift.push(`${where} is missing`);
      continue;
    }
    if (got.type !== want.type) drift.push(`${where} is ${got.type}, the schema says ${want.type}`);
    if (got.nullable !== want.nullable) {
      drift.push(
        `${where} is ${got.nullable ? 'nullable' : 'NOT NULL'}, the schema says ${want.nullable ? 'nullable' : 'NOT NULL'}`,
      );
    }
    if (got.hasDefault !== want.hasDefault) {
      drift.push(
        `${where} ${got.hasDefault ? 'has a default' : 'has no default'}, the schema says ${want.hasDefault ? 'it has one' : 'none'}`,
      );
    }
  }
  for (const column of actual.columns.keys()) {
    if (!expected.columns.has(column))
      drift.push(`column "${name}"."${column}" exists but the model has no such field`);
  }
  for (const key of expected.keys)
    if (!actual.keys.has(key)) drift.push(`table "${name}": ${key} is missing`);
  for (const key of actual.keys)
    if (!expected.keys.has(key))
      drift.push(`table "${name}": ${key} exists but the schema does not declare it`);
  return drift;
}
