"""The "Administration des comptes" pages under ``/admin`` (one router, included by
``idp.app``). Each sub-module holds one group of pages."""

from __future__ import annotations

from fastapi import APIRouter

from idp.admin import desk_routes, people_routes, school_routes, staff_routes, stats_routes

router = APIRouter(include_in_schema=False)
for module in (desk_routes, school_routes, stats_routes, staff_routes, people_routes):
    router.include_router(module.router)
