"""Embed oppcore in a FastAPI app: your SQLAlchemy engine, SQLStore, OpportunityService.

Run: python examples/fastapi_app.py
     (SQLite in a temporary directory; set OPPCORE_DATABASE_URL, e.g.
     ``postgresql+psycopg://app@localhost/crm``, to use your PostgreSQL)
Serve: build the app with ``create_app(engine)`` in your own module and run it with uvicorn.

Needs ``pip install 'oppcore[sql]' fastapi httpx``. The endpoints are plain ``def``
functions on purpose: oppcore's API is synchronous (each call waits for the database), and
FastAPI runs ``def`` endpoints in its threadpool, so a slow query never blocks the event
loop. From an ``async def`` endpoint, call oppcore through
``await starlette.concurrency.run_in_threadpool(...)`` instead.

Each request runs in ONE database transaction (the ``service`` dependency): the store is
bound to the request's connection, so oppcore's writes commit or roll back together with
whatever else the request writes to your own tables.
"""

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

from oppcore import (
    Account,
    Budget,
    Contact,
    DuplicateError,
    Money,
    NotFoundError,
    Opportunity,
    OpportunityService,
    Pipeline,
    Qualification,
    Scorecard,
    StorageUnavailableError,
    TransitionError,
    VersionConflictError,
    serde,
)
from oppcore.storage.sql import SQLStore, upgrade


class NewDeal(BaseModel):
    """The body of ``POST /deals``."""

    id: str
    name: str
    account: str
    contact: str
    amount: Decimal
    currency: str


class Move(BaseModel):
    """The body of ``POST /deals/{id}/move``."""

    to_stage: str


def create_app(engine: sa.Engine) -> FastAPI:
    """Return the app over ``engine`` (creates oppcore's tables if they are missing)."""
    upgrade(engine)  # in production: `oppcore db upgrade --url ...` in your deploy step
    app = FastAPI(title="deals")
    pipeline = Pipeline.template("standard")
    scorecard = Scorecard.default()

    def store(x_tenant: Annotated[str, Header()] = "demo") -> Iterator[SQLStore]:
        # One transaction per request; an exception rolls it back (FastAPI re-raises
        # the endpoint's exception here), success commits it. FastAPI makes this once per
        # request, so the service below and the endpoint share it.
        with engine.begin() as conn:
            yield SQLStore(conn, tenant=x_tenant)

    Store = Annotated[SQLStore, Depends(store)]

    def service(db: Store) -> OpportunityService:
        return OpportunityService(db, pipelines=pipeline, scorecard=scorecard,
                                  clock=lambda: datetime.now(timezone.utc))

    Service = Annotated[OpportunityService, Depends(service)]

    @app.exception_handler(NotFoundError)
    def not_found(_request: Any, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(DuplicateError)
    @app.exception_handler(VersionConflictError)
    def conflict(_request: Any, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(StorageUnavailableError)
    def unavailable(_request: Any, exc: StorageUnavailableError) -> JSONResponse:
        # "retry-transaction": the whole request may simply be sent again.
        return JSONResponse({"detail": str(exc), "reason": exc.reason}, status_code=503)

    @app.post("/deals", status_code=201)
    def create_deal(body: NewDeal, svc: Service) -> dict[str, Any]:
        deal = Opportunity(
            id=body.id, name=body.name, pipeline_id=pipeline.id,
            stage_id=pipeline.stages[0].id, created_at=datetime.now(timezone.utc),
            account=Account(id=body.account, name=body.account),
            contacts=(Contact(id=f"{body.id}-c1", name=body.contact),),
            amount=Money.of(body.amount, body.currency),
            qualification=Qualification(budget=Budget(
                amount=Money.of(body.amount, body.currency), confirmed=True)))
        svc.create(deal, by="api")
        return serde.unstructure(svc.get(body.id, by="api"))

    @app.post("/deals/{deal_id}/move")
    def move_deal(deal_id: str, body: Move, svc: Service) -> dict[str, Any]:
        try:
            svc.move_stage(deal_id, body.to_stage, by="api")
        except TransitionError as exc:
            raise HTTPException(422, [{"code": v.code, "message": v.message}
                                      for v in exc.violations]) from exc
        return serde.unstructure(svc.get(deal_id, by="api"))

    @app.post("/deals/{deal_id}/score")
    def score_deal(deal_id: str, svc: Service) -> dict[str, Any]:
        svc.rescore(deal_id, by="api")
        deal = svc.get(deal_id, by="api")
        return {"id": deal_id, "score": deal.custom["score"], "grade": deal.custom["score_grade"]}

    @app.get("/deals")
    def list_deals(db: Store, after: str | None = None, limit: int = 50) -> dict[str, Any]:
        page = db.query(Opportunity, after=after, limit=limit)
        return {"items": [{"id": d.id, "stage": d.stage_id, "version": d.version}
                          for d in page.items], "next_after": page.next_after}

    return app


def main() -> None:
    """Drive the app with FastAPI's test client, as a browser or another service would."""
    url = os.environ.get("OPPCORE_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        engine = sa.create_engine(url or f"sqlite:///{tmp}/crm.db")
        client = TestClient(create_app(engine))
        for i in (1, 2, 3):
            made = client.post("/deals", json={
                "id": f"D-{i}", "name": f"Pumps {i}", "account": "acme", "contact": "Li Na",
                "amount": "12000.00", "currency": "CNY"})
            print("created", made.json()["id"], made.status_code)
        print("duplicate:", client.post("/deals", json={
            "id": "D-1", "name": "again", "account": "acme", "contact": "Li Na",
            "amount": "1", "currency": "CNY"}).status_code)
        refused = client.post("/deals/D-1/move", json={"to_stage": "won"})
        print("refused:", refused.status_code, [v["code"] for v in refused.json()["detail"]])
        moved = client.post("/deals/D-1/move", json={"to_stage": "needs_analysis"}).json()
        print("moved:", moved["stage_id"], "version", moved["version"])
        scored = client.post("/deals/D-1/score").json()
        print("scored:", scored["grade"], scored["score"])
        first = client.get("/deals", params={"limit": 2}).json()
        rest = client.get("/deals", params={"after": first["next_after"]}).json()
        print("pages:", [d["id"] for d in first["items"]], [d["id"] for d in rest["items"]])
        other = client.get("/deals", headers={"x-tenant": "other"}).json()
        print("other tenant sees:", other["items"])
        engine.dispose()


if __name__ == "__main__":
    main()
