-- authz-service looks up bootstrap admins that already exist (ListUsers by email) as itself:
-- a role with just that permission, held by the service identity. Not built in: operators may
-- revoke it if they give admins another way.
INSERT INTO "roles" ("name", "description", "permissions", "inherits", "built_in", "create_time", "update_time") VALUES
    ('user-directory', 'Finds users by email (internal services only).', ARRAY['user.list'], ARRAY[]::TEXT[], false, now(), now())
ON CONFLICT ("name") DO NOTHING;

INSERT INTO "role_assignments" ("subject_id", "role", "expire_time", "create_time") VALUES
    ('service:authz-service', 'user-directory', NULL, now())
ON CONFLICT ("subject_id", "role") DO NOTHING;
