-- Housekeeping purges ended sessions by end_time (sweeper.retention).
-- CreateIndex
CREATE INDEX "sessions_end_time_idx" ON "sessions"("end_time");
