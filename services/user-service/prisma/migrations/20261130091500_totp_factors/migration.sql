-- TOTP second factors (issue 13): one per user, pending until confirmed. The secret is sealed
-- (AES-256-GCM) under mfa.encryption_key, which is not in the database; recovery codes are kept as
-- hashes; last_used_step refuses a code replayed within its window. Erased with the user.
CREATE TABLE "totp_factors" (
    "user_id" UUID NOT NULL,
    "secret_sealed" TEXT NOT NULL,
    "confirmed" BOOLEAN NOT NULL DEFAULT false,
    "last_used_step" INTEGER NOT NULL DEFAULT -1,
    "recovery_code_hashes" JSONB NOT NULL DEFAULT '[]',
    "create_time" TIMESTAMPTZ(3) NOT NULL,
    "update_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "totp_factors_pkey" PRIMARY KEY ("user_id"),
    CONSTRAINT "totp_factors_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
