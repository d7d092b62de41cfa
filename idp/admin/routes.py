"""The "Administration des comptes" pages under ``/admin`` (one router, included by
``idp.app``). Each sub-module holds one group of pages."""

from __future__ import annotations

from fastapi import APIRouter

from idp.admin import desk_routes
from idp.admin.people import routes as people_routes
from idp.admin.schools import routes as school_routes
from idp.admin.staff import routes as staff_routes
from idp.admin.stats import routes as stats_routes

router = APIRouter(include_in_schema=False)
for module in (desk_routes, school_routes, stats_routes, staff_routes, people_routes):
    router.include_router(module.router)
