"""search documents kept by the database: a view defines them, triggers rewrite them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 15:00:00

`postmortem_search_document` (a view) is the search document of each postmortem: its title;
summary and root cause; contributing factors, lessons learned and timeline descriptions in order,
one per line, empty parts left out. Triggers on `postmortem` and `timeline_event` upsert a
postmortem's row of `postmortem_search` from that view whenever what it reads changes, in the
same transaction, so no writer has to remember to. Every document is rewritten once here.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED_COLUMNS = ("title", "summary", "root_cause", "contributing_factors", "lessons_learned")
CHANGED = " OR ".join(f"old.{column} IS DISTINCT FROM new.{column}" for column in SEARCHED_COLUMNS)
UPSERT = """
INSERT INTO postmortem_search (postmortem_id, title, body, details)
SELECT postmortem_id, title, body, details FROM postmortem_search_document WHERE {where}
ON CONFLICT (postmortem_id) DO UPDATE SET title = excluded.title, body = excluded.body, details = excluded.details
"""

POSTGRESQL_VIEW = r"""
CREATE VIEW postmortem_search_document AS
SELECT p.id AS postmortem_id,
       p.title,
       concat_ws(E'\n', NULLIF(p.summary, ''), NULLIF(p.root_cause, '')) AS body,
       concat_ws(E'\n',
           (SELECT string_agg(NULLIF(f.value, ''), E'\n' ORDER BY f.position)
              FROM jsonb_array_elements_text(p.contributing_factors) WITH ORDINALITY AS f (value, position)),
           NULLIF(p.lessons_learned, ''),
           (SELECT string_agg(NULLIF(e.description, ''), E'\n' ORDER BY e.occurred_at, e.id)
              FROM timeline_event AS e WHERE e.postmortem_id = p.id)) AS details
FROM postmortem AS p
"""
POSTGRESQL = [
    POSTGRESQL_VIEW,
    f"""
    CREATE FUNCTION postmortem_search_refresh(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    {UPSERT.format(where="postmortem_id = ANY (ids)")}
    $$
    """,
    """
    CREATE FUNCTION postmortem_search_on_postmortem() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM postmortem_search_refresh(ARRAY[new.id]);
        RETURN NULL;
    END $$
    """,
    # Statement-level, so that events added in one statement (an import) rewrite each document once.
    """
    CREATE FUNCTION postmortem_search_on_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM postmortem_search_refresh(ARRAY(SELECT DISTINCT postmortem_id FROM new_events));
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM postmortem_search_refresh(ARRAY(SELECT DISTINCT postmortem_id FROM old_events));
        ELSE
            PERFORM postmortem_search_refresh(ARRAY(
                SELECT postmortem_id FROM new_events UNION SELECT postmortem_id FROM old_events));
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER postmortem_search_on_insert AFTER INSERT ON postmortem
    FOR EACH ROW EXECUTE FUNCTION postmortem_search_on_postmortem()
    """,
    f"""
    CREATE TRIGGER postmortem_search_on_update AFTER UPDATE OF {", ".join(SEARCHED_COLUMNS)} ON postmortem
    FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION postmortem_search_on_postmortem()
    """,
    """
    CREATE TRIGGER postmortem_search_on_event_insert AFTER INSERT ON timeline_event
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION postmortem_search_on_timeline()
    """,
    """
    CREATE TRIGGER postmortem_search_on_event_update AFTER UPDATE ON timeline_event
    REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION postmortem_search_on_timeline()
    """,
    """
    CREATE TRIGGER postmortem_search_on_event_delete AFTER DELETE ON timeline_event
    REFERENCING OLD TABLE AS old_events FOR EACH STATEMENT EXECUTE FUNCTION postmortem_search_on_timeline()
    """,
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER postmortem_search_on_event_delete ON timeline_event",
    "DROP TRIGGER postmortem_search_on_event_update ON timeline_event",
    "DROP TRIGGER postmortem_search_on_event_insert ON timeline_event",
    "DROP TRIGGER postmortem_search_on_update ON postmortem",
    "DROP TRIGGER postmortem_search_on_insert ON postmortem",
    "DROP FUNCTION postmortem_search_on_timeline()",
    "DROP FUNCTION postmortem_search_on_postmortem()",
    "DROP FUNCTION postmortem_search_refresh(uuid[])",
    "DROP VIEW postmortem_search_document",
]

# SQLite has no concat_ws before 3.44 and no ORDER BY inside aggregates: the parts are a UNION ALL in order.
SQLITE_VIEW = """
CREATE VIEW postmortem_search_document AS
SELECT p.id AS postmortem_id,
       p.title,
       coalesce((SELECT group_concat(part, char(10)) FROM (
           SELECT p.summary AS part WHERE p.summary <> ''
           UNION ALL SELECT p.root_cause WHERE p.root_cause <> '')), '') AS body,
       coalesce((SELECT group_concat(part, char(10)) FROM (
           SELECT 0 AS section, f.key AS position, '' AS tiebreak, f.value AS part
             FROM json_each(p.contributing_factors) AS f WHERE f.value <> ''
           UNION ALL SELECT 1, 0, '', p.lessons_learned WHERE p.lessons_learned <> ''
           UNION ALL SELECT 2, e.occurred_at, e.id, e.description
             FROM timeline_event AS e WHERE e.postmortem_id = p.id AND e.description <> ''
           ORDER BY 1, 2, 3)), '') AS details
FROM postmortem AS p
"""
SQLITE = [
    SQLITE_VIEW,
    f"""
    CREATE TRIGGER postmortem_search_on_insert AFTER INSERT ON postmortem BEGIN
        {UPSERT.format(where="postmortem_id = new.id")};
    END
    """,
    f"""
    CREATE TRIGGER postmortem_search_on_update AFTER UPDATE OF {", ".join(SEARCHED_COLUMNS)} ON postmortem
    WHEN {CHANGED.replace("IS DISTINCT FROM", "IS NOT")} BEGIN
        {UPSERT.format(where="postmortem_id = new.id")};
    END
    """,
    f"""
    CREATE TRIGGER postmortem_search_on_event_insert AFTER INSERT ON timeline_event BEGIN
        {UPSERT.format(where="postmortem_id = new.postmortem_id")};
    END
    """,
    f"""
    CREATE TRIGGER postmortem_search_on_event_update AFTER UPDATE ON timeline_event BEGIN
        {UPSERT.format(where="postmortem_id = new.postmortem_id")};
    END
    """,
    f"""
    CREATE TRIGGER postmortem_search_on_event_delete AFTER DELETE ON timeline_event BEGIN
        {UPSERT.format(where="postmortem_id = old.postmortem_id")};
    END
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER postmortem_search_on_event_delete",
    "DROP TRIGGER postmortem_search_on_event_update",
    "DROP TRIGGER postmortem_search_on_event_insert",
    "DROP TRIGGER postmortem_search_on_update",
    "DROP TRIGGER postmortem_search_on_insert",
    "DROP VIEW postmortem_search_document",
]


def upgrade() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)
    op.execute(UPSERT.format(where="true"))


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
