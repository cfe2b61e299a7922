-- CreateEnum
CREATE TYPE "UserStatus" AS ENUM ('ACTIVE', 'DISABLED');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "status" "UserStatus" NOT NULL DEFAULT 'ACTIVE',
    "create_time" TIMESTAMPTZ(3) NOT NULL,
    "update_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "login_failures" (
    "email" TEXT NOT NULL,
    "failure_count" INTEGER NOT NULL,
    "window_start_time" TIMESTAMPTZ(3) NOT NULL,
    "locked_until_time" TIMESTAMPTZ(3),

    CONSTRAINT "login_failures_pkey" PRIMARY KEY ("email")
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
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "users_create_time_id_idx" ON "users"("create_time", "id");

-- CreateIndex
CREATE INDEX "login_failures_window_start_time_idx" ON "login_failures"("window_start_time");

-- CreateIndex
CREATE INDEX "idempotency_keys_create_time_idx" ON "idempotency_keys"("create_time");

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
