"""Prometheus `/metrics`: requests by method, route template and status, and a latency histogram;
label values are templates, never raw paths (bounded cardinality)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from bergfried.services import Services
from bergfried.web.app import create_app
from tests.web.conftest import add_route, echo_thing, serving

REQUESTS = "bergfried_http_requests_total"
LATENCY = "bergfried_http_request_duration_seconds"


def samples(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def value(text: str, name: str, **labels: str) -> float | None:
    for sample in samples(text):
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return float(sample.value)
    return None


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_method_route_template_and_status(app: Starlette) -> None:
    add_route(app, "/things/{thing_id}", echo_thing)
    async with serving(app) as client:
        for _ in range(3):
            assert (await client.get("/debug/healthz")).status_code == 200
        assert (await client.get("/things/42")).status_code == 200
        assert (await client.get("/things/43")).status_code == 200
        assert (await client.post("/debug/healthz")).status_code == 405
        text = await scrape(client)
    assert value(text, REQUESTS, method="GET", route="/debug/healthz", status="200") == 3
    assert value(text, REQUESTS, method="GET", route="/things/{thing_id}", status="200") == 2
    assert value(text, REQUESTS, method="POST", route="/debug/healthz", status="405") == 1


async def test_raw_paths_never_become_label_values(app: Starlette) -> None:
    add_route(app, "/things/{thing_id}", echo_thing)
    async with serving(app) as client:
        await client.get("/things/170848145649959169")
        await client.get("/no/such/route/170848145649959169")
        text = await scrape(client)
    routes = {sample.labels.get("route") for sample in samples(text) if "route" in sample.labels}
    assert "/things/{thing_id}" in routes
    assert not any(route and "170848145649959169" in route for route in routes)
    assert value(text, REQUESTS, method="GET", status="404") == 1


async def test_latency_histogram_observes_every_request(client: httpx.AsyncClient) -> None:
    for _ in range(4):
        await client.get("/debug/ready")
    text = await scrape(client)
    assert value(text, f"{LATENCY}_count", method="GET", route="/debug/ready") == 4
    assert value(text, f"{LATENCY}_bucket", method="GET", route="/debug/ready", le="+Inf") == 4
    total = value(text, f"{LATENCY}_sum", method="GET", route="/debug/ready")
    assert total is not None
    assert total > 0
    buckets = [s for s in samples(text) if s.name == f"{LATENCY}_bucket" and s.labels.get("route") == "/debug/ready"]
    assert len(buckets) > 5  # real bucket boundaries, not only +Inf
    counts = [s.value for s in sorted(buckets, key=lambda s: float(s.labels["le"]))]
    assert counts == sorted(counts)  # cumulative


async def test_errors_are_counted_with_their_status(app: Starlette) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("unexpected")

    add_route(app, "/boom", boom)
    async with serving(app) as client:
        await client.get("/boom")
        text = await scrape(client)
    assert value(text, REQUESTS, method="GET", route="/boom", status="500") == 1
    assert value(text, f"{LATENCY}_count", method="GET", route="/boom") == 1


async def test_each_app_counts_only_its_own_requests(services: Services) -> None:
    first = create_app(services.settings, prebuilt=services)
    second = create_app(services.settings, prebuilt=services)
    async with serving(first) as client:
        await client.get("/debug/healthz")
        await client.get("/debug/healthz")
    async with serving(second) as client:
        text = await scrape(client)
    assert value(text, REQUESTS, method="GET", route="/debug/healthz", status="200") is None
    assert value(text, REQUESTS, method="GET", route="/metrics", status="200") is None  # counted after it answers
