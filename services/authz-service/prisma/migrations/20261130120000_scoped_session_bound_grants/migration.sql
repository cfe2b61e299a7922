-- Scoped grants and session-bound elevation (issue 15). An unscoped assignment has scope_type and
-- scope_id ''; a subject may hold a role unscoped and on several scopes, each its own row.
ALTER TABLE "role_assignments"
    ADD COLUMN "scope_type" TEXT NOT NULL DEFAULT '',
    ADD COLUMN "scope_id" TEXT NOT NULL DEFAULT '',
    ADD COLUMN "bound_session_id" TEXT;

ALTER TABLE "role_assignments" DROP CONSTRAINT "role_assignments_pkey",
    ADD CONSTRAINT "role_assignments_pkey" PRIMARY KEY ("subject_id", "role", "scope_type", "scope_id");

DROP INDEX "role_assignments_role_subject_id_idx";
CREATE INDEX "role_assignments_role_scope_type_scope_id_subject_id_idx"
    ON "role_assignments" ("role", "scope_type", "scope_id", "subject_id");

-- Only bound grants are looked up by session (when it ends): the index holds only those.
CREATE INDEX "role_assignments_bound_session_id_idx"
    ON "role_assignments" ("bound_session_id") WHERE "bound_session_id" IS NOT NULL;

-- Sessions known to have ended: AssignRole refuses to bind to one, in the same transaction.
CREATE TABLE "ended_sessions" (
    "session_id" TEXT NOT NULL,
    "end_time" TIMESTAMPTZ(3) NOT NULL,
    "record_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ended_sessions_pkey" PRIMARY KEY ("session_id")
);

CREATE INDEX "ended_sessions_record_time_idx" ON "ended_sessions" ("record_time");
