-- The user an idempotency record's response is about (RegisterUser, StartSession, RefreshSession
-- hold personal data even encrypted): erasing the user deletes these records (DESIGN 3b).
ALTER TABLE "idempotency_keys" ADD COLUMN "owner_id" TEXT;

CREATE INDEX "idempotency_keys_owner_id_idx" ON "idempotency_keys"("owner_id");
