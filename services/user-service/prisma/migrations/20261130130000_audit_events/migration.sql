-- The audit trail (issue 15): AUDIT_DDL of @warden/events, verbatim.
CREATE TABLE audit_events (
  id uuid PRIMARY KEY,
  time timestamptz(3) NOT NULL,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  via_service text NOT NULL,
  action text NOT NULL,
  target_type text NOT NULL,
  target_id text NOT NULL,
  request_id text NOT NULL,
  trace_id text NOT NULL,
  reason text NOT NULL,
  event_id uuid,
  details jsonb NOT NULL
);

CREATE INDEX audit_events_time_id_idx ON audit_events (time, id);
CREATE INDEX audit_events_actor_id_time_id_idx ON audit_events (actor_id, time, id);
CREATE INDEX audit_events_target_id_time_id_idx ON audit_events (target_id, time, id);
CREATE INDEX audit_events_action_time_id_idx ON audit_events (action, time, id);
