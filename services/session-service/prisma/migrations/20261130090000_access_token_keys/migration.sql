-- Ed25519 keys signing access tokens. The private key is sealed (AES-256-GCM) under
-- access_tokens.signing_secret, which never reaches the database; the public JWK is published.
CREATE TABLE "access_token_keys" (
    "kid" TEXT NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "sealed_private_key" BYTEA NOT NULL,
    "create_time" TIMESTAMPTZ(3) NOT NULL,
    "retire_time" TIMESTAMPTZ(3),

    CONSTRAINT "access_token_keys_pkey" PRIMARY KEY ("kid")
);

CREATE INDEX "access_token_keys_create_time_idx" ON "access_token_keys"("create_time");
