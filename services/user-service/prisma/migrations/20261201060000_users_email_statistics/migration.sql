-- ListUsers by email prefix orders by (create_time, id) with a LIMIT, so the planner weighs a range
-- of users_email_pattern_idx (every match, then a sort) against walking users_create_time_id_idx
-- until a page of matches turns up. It weighs them on its estimate of how many users the prefix
-- matches, read off the email histogram: at the default statistics target (100 buckets) some
-- prefixes were estimated at thousands of matches where there were 111, and the walk was chosen,
-- reading half of a 1M-user table for one page (1.2 % of calls in bench/data-growth.ts; pgbench:
-- 2,040 prefix pages/s at 100, 7,300 at 1,000, with no such plan left). 1,000 buckets (ANALYZE
-- samples 300,000 rows) keep the estimates near the truth.
ALTER TABLE "users" ALTER COLUMN "email" SET STATISTICS 1000;
ANALYZE "users";
