"""The v1 API: one router per domain."""

from fastapi import APIRouter, Depends

from service.action_items.router import router as action_items_router
from service.auth.dependencies import authenticate
from service.auth.router import router as api_keys_router
from service.documents.router import router as documents_router
from service.integrations.router import router as integrations_router
from service.outbox.router import router as deliveries_router
from service.policy.router import router as policy_router
from service.postmortems.router import router as postmortems_router
from service.review.router import router as review_router
from service.stats.router import router as stats_router
from service.timeline.router import router as timeline_router

api_router = APIRouter(prefix="/v1", dependencies=[Depends(authenticate)])
api_router.include_router(postmortems_router)  # /v1/postmortems
api_router.include_router(review_router)  # /v1/postmortems/{id}/review
api_router.include_router(documents_router)  # /v1/postmortems/{id}/export, /v1/postmortems/import
api_router.include_router(timeline_router)  # /v1/postmortems/{id}/timeline
api_router.include_router(action_items_router)  # /v1/postmortems/{id}/action-items, /v1/action-items
api_router.include_router(api_keys_router)  # /v1/api-keys
api_router.include_router(integrations_router)  # /v1/integrations
api_router.include_router(deliveries_router)  # /v1/deliveries
api_router.include_router(policy_router)  # /v1/policy
api_router.include_router(stats_router)  # /v1/stats
