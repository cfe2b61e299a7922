-- Records written before idempotency.secret were keyed by their request id alone, so a dump plus a
-- request id opened them; servers now treat them as absent. Delete them instead of waiting a day.
DELETE FROM "idempotency_keys" WHERE "fingerprint" NOT LIKE 'v2.%';
