"""The v1 API: one router per domain, each included in the app directly (one level of routing less)."""

from service.action_items.router import router as action_items_router
from service.auth.router import router as api_keys_router
from service.documents.router import router as documents_router
from service.events.router import router as events_router
from service.integrations.router import router as integrations_router
from service.outbox.router import router as deliveries_router
from service.policy.router import router as policy_router
from service.postmortems.router import router as postmortems_router
from service.review.router import router as review_router
from service.stats.router import router as stats_router
from service.subscriptions.router import router as subscriptions_router
from service.timeline.router import router as timeline_router

API_PREFIX = "/v1"  # every route needs an API key: see `auth.middleware`
API_ROUTERS = [
    postmortems_router,  # /v1/postmortems
    review_router,  # /v1/postmortems/{id}/review
    documents_router,  # /v1/postmortems/{id}/export, /v1/postmortems/import
    timeline_router,  # /v1/postmortems/{id}/timeline
    action_items_router,  # /v1/postmortems/{id}/action-items, /v1/action-items
    api_keys_router,  # /v1/api-keys
    integrations_router,  # /v1/integrations
    deliveries_router,  # /v1/deliveries
    policy_router,  # /v1/policy
    stats_router,  # /v1/stats
    subscriptions_router,  # /v1/subscriptions
    events_router,  # /v1/events
]
