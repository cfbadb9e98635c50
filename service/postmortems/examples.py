"""Example answers of the main operations, shown in the OpenAPI document (tests check them against their schemas).

One postmortem goes through the workflow: created, edited, submitted, approved, completed; its action item
and its first timeline event are shown too. They are added to the finished document by operationId
(`service.core.openapi.document_response_examples`): FastAPI drops the nulls of examples it writes itself.
"""

from typing import Any

from service.postmortems.models import PostmortemCreate

POSTMORTEM_ID = "01946a3c-5f10-7b2e-9c4d-3e8f1a2b6c7d"
_CREATE_EXAMPLE: dict[str, Any] = PostmortemCreate.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index,assignment]

POSTMORTEM_CREATED: dict[str, Any] = {
    **_CREATE_EXAMPLE,
    "customer_data_affected": "unknown",
    "review_meeting": None,
    "integration_id": None,
    "id": POSTMORTEM_ID,
    "status": "draft",
    "created_at": "2025-01-15T11:02:00Z",
    "updated_at": "2025-01-15T11:02:00Z",
    "submitted_at": None,
    "completed_at": None,
    "version": 1,
    "approvals": [],
    "action_items_summary": {"total": 0, "open": 0, "done": 0, "overdue": 0},
    "duration_minutes": 45,
    "time_to_detect_minutes": 10,
    "time_to_resolve_minutes": 35,
    "draft_due_at": "2025-01-16T09:35:00Z",
    "review_due_at": "2025-01-18T09:35:00Z",
    "complete_due_at": "2025-01-22T09:35:00Z",
    "draft_overdue": False,
    "review_overdue": False,
    "complete_overdue": False,
    "overdue": False,
}
POSTMORTEM_UPDATED = POSTMORTEM_CREATED | {
    "tags": ["config", "payments", "alerting"],
    "updated_at": "2025-01-15T14:30:00Z",
    "version": 2,
    "action_items_summary": {"total": 1, "open": 1, "done": 0, "overdue": 0},
}
POSTMORTEM_SUBMITTED = POSTMORTEM_UPDATED | {
    "status": "in_review",
    "submitted_at": "2025-01-16T08:00:00Z",
    "updated_at": "2025-01-16T08:00:00Z",
    "version": 3,
}
POSTMORTEM_APPROVED = POSTMORTEM_SUBMITTED | {"approvals": [{"name": "carol", "approved_at": "2025-01-17T15:10:00Z"}]}
POSTMORTEM_COMPLETED = POSTMORTEM_APPROVED | {
    "status": "complete",
    "completed_at": "2025-01-17T15:30:00Z",
    "updated_at": "2025-01-17T15:30:00Z",
    "version": 4,
}
POSTMORTEM_PAGE = {
    "items": [POSTMORTEM_COMPLETED],
    "next_cursor": "WyIwMTk0NmEzYy01ZjEwLTdiMmUtOWM0ZC0zZThmMWEyYjZjN2QiXQ",
}

TIMELINE_EVENT: dict[str, Any] = {
    "id": "01946a41-0c2a-7d51-8f3e-6b9a2c4d1e08",
    "postmortem_id": POSTMORTEM_ID,
    "occurred_at": "2025-01-15T09:00:00Z",
    "kind": "alert",
    "description": "Checkout error-rate alert fired: 5xx above 5% for 5 minutes",
    "source": "PagerDuty",
    "created_at": "2025-01-15T11:05:00Z",
    "updated_at": "2025-01-15T11:05:00Z",
    "version": 1,
}

ACTION_ITEM_CREATED: dict[str, Any] = {
    "id": "01946a43-7e11-7a90-b2c5-0d4f8e6a3b19",
    "postmortem_id": POSTMORTEM_ID,
    "title": "Validate config pushes in CI",
    "description": "Reject payment-client timeouts below 100 ms before a push is applied.",
    "owner": "@payments-oncall",
    "priority": "P1",
    "due_date": "2025-02-01",
    "status": "open",
    "kind": "prevent",
    "completed_at": None,
    "integration_id": None,
    "external": None,
    "sync_status": None,
    "last_sync_error": None,
    "created_at": "2025-01-15T11:08:00Z",
    "updated_at": "2025-01-15T11:08:00Z",
    "version": 1,
    "slo_due_date": "2025-01-29",
    "overdue": False,
    "suggested_due_date": None,
    "slo_breached": False,
}
ACTION_ITEM_UPDATED = ACTION_ITEM_CREATED | {
    "status": "in_progress",
    "owner": "@payments-platform",
    "due_date": "2025-02-15",
    "updated_at": "2025-01-20T09:12:00Z",
    "version": 2,
}

RESPONSE_EXAMPLES: dict[str, Any] = {
    "postmortems_create": POSTMORTEM_CREATED,
    "postmortems_list": POSTMORTEM_PAGE,
    "postmortems_get": POSTMORTEM_SUBMITTED,
    "postmortems_update": POSTMORTEM_UPDATED,
    "postmortems_submit": POSTMORTEM_SUBMITTED,
    "postmortems_approve": POSTMORTEM_APPROVED,
    "postmortems_complete": POSTMORTEM_COMPLETED,
    "timeline_create": TIMELINE_EVENT,
    "action_items_create": ACTION_ITEM_CREATED,
    "action_items_update": ACTION_ITEM_UPDATED,
}
"""The example answer of each main operation, by operationId."""
