-- CreateEnum
CREATE TYPE "SessionStatus" AS ENUM ('ACTIVE', 'ENDED', 'EXPIRED');

-- CreateEnum
CREATE TYPE "SessionEndReason" AS ENUM ('LOGOUT', 'ADMIN', 'USER_DISABLED', 'USER_DELETED', 'PASSWORD_CHANGED', 'REPLACED_BY_LIMIT', 'IDLE_TIMEOUT', 'ABSOLUTE_TIMEOUT');

-- CreateTable
CREATE TABLE "sessions" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "status" "SessionStatus" NOT NULL DEFAULT 'ACTIVE',
    "create_time" TIMESTAMPTZ(3) NOT NULL,
    "expire_time" TIMESTAMPTZ(3) NOT NULL,
    "idle_expire_time" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_time" TIMESTAMPTZ(3) NOT NULL,
    "end_time" TIMESTAMPTZ(3),
    "end_reason" "SessionEndReason",
    "ip_address" TEXT NOT NULL,
    "user_agent" TEXT NOT NULL,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rotated_tokens" (
    "token_hash" TEXT NOT NULL,
    "session_id" UUID NOT NULL,
    "rotate_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rotated_tokens_pkey" PRIMARY KEY ("token_hash")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "key_hash" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "response" BYTEA,
    "create_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("key_hash")
);

-- CreateIndex
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions"("token_hash");

-- CreateIndex
CREATE INDEX "sessions_user_id_create_time_id_idx" ON "sessions"("user_id", "create_time", "id");

-- CreateIndex
CREATE INDEX "sessions_status_idle_expire_time_idx" ON "sessions"("status", "idle_expire_time");

-- CreateIndex
CREATE INDEX "sessions_status_expire_time_idx" ON "sessions"("status", "expire_time");

-- CreateIndex
CREATE INDEX "rotated_tokens_session_id_idx" ON "rotated_tokens"("session_id");

-- CreateIndex
CREATE INDEX "idempotency_keys_create_time_idx" ON "idempotency_keys"("create_time");

-- AddForeignKey
ALTER TABLE "rotated_tokens" ADD CONSTRAINT "rotated_tokens_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Outbox and processed events: OUTBOX_DDL of @warden/events, verbatim.

CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  subject text NOT NULL,
  type text NOT NULL,
  payload bytea NOT NULL,
  headers jsonb NOT NULL,
  create_time timestamptz(3) NOT NULL,
  published_time timestamptz(3),
  attempts integer NOT NULL DEFAULT 0
);

CREATE INDEX outbox_published_time_create_time_idx ON outbox (published_time, create_time);

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The schema as payload lets a relay ignore wake-ups from other services sharing the database.
  PERFORM pg_notify('warden_outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE processed_events (
  consumer text NOT NULL,
  event_id text NOT NULL,
  processed_time timestamptz(3) NOT NULL,
  PRIMARY KEY (consumer, event_id)
);

CREATE INDEX processed_events_processed_time_idx ON processed_events (processed_time);
