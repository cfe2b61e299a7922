-- CreateTable
CREATE TABLE "roles" (
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "permissions" TEXT[] NOT NULL,
    "inherits" TEXT[] NOT NULL,
    "built_in" BOOLEAN NOT NULL DEFAULT false,
    "create_time" TIMESTAMPTZ(3) NOT NULL,
    "update_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "roles_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "role_assignments" (
    "subject_id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "expire_time" TIMESTAMPTZ(3),
    "create_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "role_assignments_pkey" PRIMARY KEY ("subject_id","role")
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
CREATE INDEX "role_assignments_role_subject_id_idx" ON "role_assignments"("role", "subject_id");

-- CreateIndex
CREATE INDEX "role_assignments_expire_time_idx" ON "role_assignments"("expire_time");

-- CreateIndex
CREATE INDEX "idempotency_keys_create_time_idx" ON "idempotency_keys"("create_time");

-- AddForeignKey
ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_role_fkey" FOREIGN KEY ("role") REFERENCES "roles"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- Outbox and processed events: OUTBOX_DDL from libs/events, verbatim.

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

-- Built-in roles (they can be updated, never deleted; admin keeps "*").
INSERT INTO "roles" ("name", "description", "permissions", "inherits", "built_in", "create_time", "update_time") VALUES
    ('admin', 'Everything, everywhere.', ARRAY['*'], ARRAY[]::TEXT[], true, now(), now()),
    ('guest', 'Reads its own user.', ARRAY['user.read:own'], ARRAY[]::TEXT[], true, now(), now()),
    ('player', 'A registered user: its own user and sessions, joining games.', ARRAY['game.join', 'permission.read:own', 'session.create', 'session.end:own', 'session.list:own', 'session.read:own', 'user.change_password:own', 'user.read:own', 'user.update:own'], ARRAY['guest'], true, now(), now());
