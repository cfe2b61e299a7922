-- Step-up (issue 13). A session completed with a second factor records which one (AAL2); NULL is a
-- password alone (AAL1), as every earlier session was.
ALTER TABLE "sessions" ADD COLUMN "second_factor" TEXT;

-- Pending second-factor steps of sign-ins (StartSession for a user with MFA on): addressed by a
-- SHA-256 of the opaque challenge id handed to the client, never the id itself; 5 minutes, 5
-- attempts; deleted when completed, and by the worker once expired.
CREATE TABLE "mfa_challenges" (
    "id_hash" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "ip_address" TEXT NOT NULL,
    "user_agent" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "create_time" TIMESTAMPTZ(3) NOT NULL,
    "expire_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "mfa_challenges_pkey" PRIMARY KEY ("id_hash")
);

CREATE INDEX "mfa_challenges_user_id_idx" ON "mfa_challenges"("user_id");
CREATE INDEX "mfa_challenges_expire_time_idx" ON "mfa_challenges"("expire_time");
