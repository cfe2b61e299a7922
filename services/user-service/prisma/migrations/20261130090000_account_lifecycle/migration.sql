-- Account lifecycle (issue 13): verified email, external id and metadata on users; one-time codes.
ALTER TABLE "users"
  ADD COLUMN "email_verified" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "external_id" TEXT,
  ADD COLUMN "metadata" JSONB NOT NULL DEFAULT '{}',
  ADD COLUMN "mfa_enabled" BOOLEAN NOT NULL DEFAULT false;

-- ListUsers by external id (unique when set: NULLs are distinct).
CREATE UNIQUE INDEX "users_external_id_key" ON "users"("external_id");
-- ListUsers by metadata key=value pairs: `metadata @> '{"k":"v"}'`.
CREATE INDEX "users_metadata_idx" ON "users" USING GIN ("metadata" jsonb_path_ops);

-- At most one code per user and purpose; only a SHA-256 of the code is kept. Erased with the user.
CREATE TABLE "user_codes" (
    "user_id" UUID NOT NULL,
    "purpose" TEXT NOT NULL,
    "code_hash" BYTEA NOT NULL,
    "expire_time" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "create_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "user_codes_pkey" PRIMARY KEY ("user_id","purpose"),
    CONSTRAINT "user_codes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX "user_codes_expire_time_idx" ON "user_codes"("expire_time");
