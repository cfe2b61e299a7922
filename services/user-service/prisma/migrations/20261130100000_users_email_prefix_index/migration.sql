-- ListUsers by email prefix is `email LIKE 'prefix%'`. The database's collation is not C, so the
-- unique index on email serves equality only and a prefix read every user (bench/data-growth.ts:
-- a sequential scan of 1M rows). text_pattern_ops orders by bytes: LIKE 'prefix%' is a range scan.
CREATE INDEX "users_email_pattern_idx" ON "users" ("email" text_pattern_ops);
