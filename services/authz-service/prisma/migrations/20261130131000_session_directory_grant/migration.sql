-- AssignRole with bound_session_id asks session-service (GetSession) whether the session is active
-- and whose it is, as itself: a role with just that permission, held by the service identity, like
-- user-directory. Not built in: operators may revoke it (binding then answers SESSIONS_UNAVAILABLE).
INSERT INTO "roles" ("name", "description", "permissions", "inherits", "built_in", "create_time", "update_time") VALUES
    ('session-directory', 'Reads any session (internal services only).', ARRAY['session.read'], ARRAY[]::TEXT[], false, now(), now())
ON CONFLICT ("name") DO NOTHING;

INSERT INTO "role_assignments" ("subject_id", "role", "expire_time", "create_time") VALUES
    ('service:authz-service', 'session-directory', NULL, now())
ON CONFLICT ("subject_id", "role", "scope_type", "scope_id") DO NOTHING;
