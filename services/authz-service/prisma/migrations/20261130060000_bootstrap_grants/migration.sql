-- authz.bootstrap_admins entries already granted: each one grants admin at most once, so a
-- revocation sticks, a worker restart does not re-grant, and a deleted and re-registered email
-- does not become admin again. Emails are kept only as a SHA-256 of the normalized address.
CREATE TABLE "bootstrap_grants" (
    "entry" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "grant_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "bootstrap_grants_pkey" PRIMARY KEY ("entry")
);

-- A user id in bootstrap_admins is checked with GetUser (user.read) at worker start; emails are
-- looked up with ListUsers (user.list), which the role had already.
UPDATE "roles"
SET "permissions" = array_append("permissions", 'user.read'), "update_time" = now()
WHERE "name" = 'user-directory' AND NOT ('user.read' = ANY ("permissions"));
