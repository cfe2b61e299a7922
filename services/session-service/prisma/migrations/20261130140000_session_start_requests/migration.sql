-- The request (idempotency record address) that started a session, so StartSession and CompleteMfa
-- recover a session committed by a request that died before its answer was stored.

-- CreateTable
CREATE TABLE "session_start_requests" (
    "request_hash" TEXT NOT NULL,
    "session_id" UUID NOT NULL,

    CONSTRAINT "session_start_requests_pkey" PRIMARY KEY ("request_hash")
);

-- CreateIndex
CREATE INDEX "session_start_requests_session_id_idx" ON "session_start_requests"("session_id");

-- AddForeignKey
ALTER TABLE "session_start_requests" ADD CONSTRAINT "session_start_requests_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
