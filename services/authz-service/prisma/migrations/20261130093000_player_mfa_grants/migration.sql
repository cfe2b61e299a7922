-- Step-up (issue 13): players enrol and confirm their own TOTP second factor, and remove it only
-- from a session completed with one (`@aal2`: CheckPermission at assurance level AAL2). The grants
-- join the role's list, which stays sorted (as the built-in roles are written) and free of repeats.
UPDATE "roles"
SET "permissions" = ARRAY(
      SELECT p
      FROM (
        SELECT DISTINCT unnest("permissions" || ARRAY['user.manage_mfa:own', 'user.remove_mfa:own@aal2']) AS p
      ) AS grants
      ORDER BY p COLLATE "C"
    ),
    "update_time" = now()
WHERE "name" = 'player'
  AND NOT ("permissions" @> ARRAY['user.manage_mfa:own', 'user.remove_mfa:own@aal2']);
