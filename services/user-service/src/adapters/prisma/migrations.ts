import { isUniqueViolation } from '@warden/db';
import type pg from 'pg';
import { normalizeEmail } from '../../domain/email.js';

/**
 * Emails stored before sign-in normalized to NFC and punycode domains are rewritten, so their
 * owners can still sign in; one whose normal form another account holds is kept and logged.
 */
export async function normalizeStoredEmails(
  pool: pg.Pool,
  schema: string,
  log?: (line: string) => void,
): Promise<void> {
  const users = `"${schema}".users`;
  // Only non-ASCII addresses can change; ASCII ones are already in their normal form.
  const { rows } = await pool.query<{ id: string; email: string }>(
    `SELECT id, email FROM ${users} WHERE email !~ '^[[:ascii:]]*$'`,
  );
  for (const row of rows) {
    const email = normalizeEmail(row.email);
    if (email === row.email) continue;
    try {
      const result = await pool.query(
        `UPDATE ${users} SET email = $2
          WHERE id = $1 AND email = $3
            AND NOT EXISTS (SELECT 1 FROM ${users} WHERE email = $2 AND id <> $1)`,
        [row.id, email, row.email],
      );
      if (result.rowCount === 1) log?.(`user ${row.id}: email normalized`);
      else log?.(`user ${row.id}: email kept as stored, its normal form names another account`);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      log?.(`user ${row.id}: email kept as stored, its normal form names another account`);
    }
  }
}
