import type { TestSchema } from '@warden/testing';

/** The forms a leaked token could take in a column: as text, its random part, the raw bytes, hex, base64. */
export function tokenForms(token: string): { text: string[]; bytes: Buffer[] } {
  const secret = token.slice('wst_'.length);
  const raw = Buffer.from(secret, 'base64url');
  const text = [
    token,
    secret,
    raw.toString('hex'),
    raw.toString('base64'),
    raw.toString('base64').replace(/=+$/, ''),
  ];
  return { text, bytes: [raw, ...text.map((t) => Buffer.from(t))] };
}

/** Every text, json and bytea column of the schema that holds any form of any of the tokens. */
export async function findTokens(db: TestSchema, tokens: readonly string[]): Promise<string[]> {
  const { rows: columns } = await db.pool.query<{
    table_name: string;
    column_name: string;
    data_type: string;
  }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = $1 AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'USER-DEFINED')`,
    [db.schema],
  );
  const hits: string[] = [];
  for (const token of tokens) {
    const forms = tokenForms(token);
    for (const { table_name: table, column_name: column, data_type: type } of columns) {
      const ref = `"${table}"."${column}"`;
      const sql =
        type === 'bytea'
          ? `SELECT count(*)::int AS n FROM "${table}" WHERE ${forms.bytes.map((_, i) => `position($${i + 1}::bytea in "${column}") > 0`).join(' OR ')}`
          : `SELECT count(*)::int AS n FROM "${table}" WHERE ${forms.text.map((_, i) => `strpos("${column}"::text, $${i + 1}) > 0`).join(' OR ')}`;
      const { rows } = await db.pool.query<{ n: number }>(
        sql,
        type === 'bytea' ? forms.bytes : forms.text,
      );
      if (rows[0]!.n > 0) hits.push(`${ref} holds a form of a token`);
    }
  }
  return hits;
}
