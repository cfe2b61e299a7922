-- Revisions (issue 15): one row counting authz writes. Each write that records events takes one
-- revision per event (UPDATE ... SET revision = revision + n RETURNING revision) in its
-- transaction; the row lock held to commit orders revisions as commits, and a rollback leaves no gap.
CREATE TABLE "authz_revision" (
    "id" BOOLEAN NOT NULL DEFAULT true,
    "revision" BIGINT NOT NULL,

    CONSTRAINT "authz_revision_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "authz_revision_one_row" CHECK ("id")
);

-- Events written before this migration carry revision 0.
INSERT INTO "authz_revision" ("id", "revision") VALUES (true, 0);
