-- ListUsers filtered by status pages in (create_time, id) order. Without this index the only way
-- was walking users_create_time_id_idx and skipping every user of another status: for the few
-- DISABLED users among 1M, one page read 13,500 pages (94 ms). With it, a page is a range of the
-- index (0.1 ms), and the keyset cursor continues inside the range.
CREATE INDEX "users_status_create_time_id_idx" ON "users"("status", "create_time", "id");
