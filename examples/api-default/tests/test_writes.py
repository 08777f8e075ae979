"""Concurrent writes: the rules' checks and the write they allow are one step.

Each write runs its checks and its write inside `Repositories.writing()`, so a request that
has read what its checks decide by holds every other write back until it has written: two
records cannot both pass the name-uniqueness rule, and nothing can come to refer to a record
between its removal checks and its delete. Here a request is paused right after its first
read of its repository, and another write must wait for it.
"""

import asyncio
import contextvars
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shop.repository import (
    serving_a_request,
    this_request,
)
from tests.factories import create, new_body

RESOURCES = [
    "orders",
    "customers",
]
# How long a write must stay held back; one that is not ends well within it. A slow machine
# can only make a test miss a write that is not held back, never fail one that is.
HELD = 0.3
# Longer than any request here takes: reaching it means a request hangs.
PATIENCE = 10


class Paused:
    """A repository whose first call stops after reading, until `release` is set: a request
    that has read what its checks decide by and has not written yet."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self._claimed = threading.Lock()
        self.reading = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            if self._claimed.acquire(blocking=False):
                self.reading.set()
                self.release.wait(PATIENCE)
            return result

        return call


@pytest.fixture
def app(client: TestClient) -> FastAPI:
    """The client's app: its state holds the repositories (and the settings)."""
    assert isinstance(client.app, FastAPI)
    return client.app


@pytest.fixture
def paused(client: TestClient, app: FastAPI) -> Callable[[str], Paused]:
    """Pause the next call on a resource's repository, in whichever request makes it."""
    repositories = app.state.repositories

    def pause(resource: str) -> Paused:
        stand_in = Paused(repositories[resource])
        repositories[resource] = stand_in
        return stand_in

    return pause


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as executor:
        yield executor


@contextmanager
def store_held(
    app: FastAPI, thread: ThreadPoolExecutor, request: contextvars.Context | None = None
) -> Iterator[None]:
    """`writing()` held on `thread` (as `request`'s code, when given) for as long as the block
    runs: a write between its checks and its write."""
    repositories = app.state.repositories
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with repositories.writing():
            holding.set()
            done.wait(PATIENCE)

    context = contextvars.Context() if request is None else request.copy()
    held = thread.submit(context.run, hold)
    try:
        assert holding.wait(PATIENCE), "the store was never held"
        yield
    finally:
        done.set()
        held.result(PATIENCE)


def held_back(future: Future[Any]) -> bool:
    try:
        future.result(HELD)
    except TimeoutError:
        return True
    return False


@pytest.mark.parametrize("resource", RESOURCES)
def test_two_creates_of_one_name_store_one(
    client: TestClient, paused: Callable[[str], Paused], pool: ThreadPoolExecutor, resource: str
) -> None:
    body = new_body(client, resource, name="Only one")
    stand_in = paused(resource)
    try:
        first = pool.submit(client.post, f"/{resource}", json=body)
        assert stand_in.reading.wait(PATIENCE), "the create never read its repository"
        second = pool.submit(client.post, f"/{resource}", json=body)
        waited = held_back(second)
    finally:
        stand_in.release.set()
    statuses = sorted([first.result(PATIENCE).status_code, second.result(PATIENCE).status_code])

    assert waited, "a create ran while another was between its checks and its write"
    assert statuses == [201, 409]


@pytest.mark.parametrize("operation", ["create", "replace", "delete"])
def test_a_write_waits_while_another_is_between_its_checks_and_its_write(
    client: TestClient, paused: Callable[[str], Paused], pool: ThreadPoolExecutor, operation: str
) -> None:
    # The endpoints are one generic router: the first resource stands for every one.
    resource, other = RESOURCES[0], RESOURCES[-1]
    record = create(client, resource, name="Existing")
    body = new_body(client, resource, name="Changed")
    meanwhile = new_body(client, other, name="Meanwhile")
    path = f"/{resource}/{record['id']}"
    requests: dict[str, Callable[[], Any]] = {
        "create": lambda: client.post(f"/{resource}", json=body),
        "replace": lambda: client.put(path, json=body),
        "delete": lambda: client.delete(path),
    }
    stand_in = paused(resource)
    try:
        first = pool.submit(requests[operation])
        assert stand_in.reading.wait(PATIENCE), f"the {operation} never read its repository"
        second = pool.submit(client.post, f"/{other}", json=meanwhile)
        waited = held_back(second)
    finally:
        stand_in.release.set()

    expected = {"create": 201, "replace": 200, "delete": 204}[operation]
    assert waited, f"a create ran while a {operation} was between its checks and its write"
    assert first.result(PATIENCE).status_code == expected
    assert second.result(PATIENCE).status_code == 201


def test_a_write_made_straight_to_a_repository_waits_too(
    client: TestClient, app: FastAPI, paused: Callable[[str], Paused], pool: ThreadPoolExecutor
) -> None:
    # Code of the team's own that writes without HTTP (a job, an import) cannot slip in either.
    resource, other = RESOURCES[0], RESOURCES[-1]
    record = create(client, resource, name="Existing")
    referrers = app.state.repositories[other]
    stand_in = paused(resource)
    try:
        first = pool.submit(client.delete, f"/{resource}/{record['id']}")
        assert stand_in.reading.wait(PATIENCE), "the delete never read its repository"
        second = pool.submit(referrers.add, {"name": "Meanwhile"})
        waited = held_back(second)
    finally:
        stand_in.release.set()

    assert waited, "a repository write ran while a delete was between its checks and its delete"
    assert first.result(PATIENCE).status_code == 204
    assert second.result(PATIENCE).data == {"name": "Meanwhile"}


def test_writing_refuses_to_run_on_the_event_loop(client: TestClient, app: FastAPI) -> None:
    # Coroutines share the loop's one thread, and so what writing() holds: two could both pass a
    # check that only one may. An `async def` endpoint gets an error, not that.
    repositories = app.state.repositories

    async def write() -> None:
        with repositories.writing():
            pass

    with pytest.raises(RuntimeError, match="for sync code"):
        asyncio.run(write())


def test_a_write_that_waits_too_long_is_a_503_to_send_again(
    client: TestClient, app: FastAPI, pool: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under more writes than the store takes, a write gives up after the store's timeout: a
    # problem the client may retry, not a 500 (and not a request left hanging).
    repositories = app.state.repositories
    monkeypatch.setattr(sys.modules[type(repositories).__module__], "BUSY_TIMEOUT", 0.1)
    body = new_body(client, RESOURCES[0], name="Waited")
    with store_held(app, pool):
        response = client.post(f"/{RESOURCES[0]}", json=body)

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "Other writes are keeping the store busy; send the request again shortly.",
        "instance": f"/{RESOURCES[0]}",
    }
    listed = client.get(f"/{RESOURCES[0]}", params={"limit": 100}).json()["items"]
    assert all(item["name"] != "Waited" for item in listed)  # it did nothing
    assert client.post(f"/{RESOURCES[0]}", json=body).status_code == 201  # and may be sent again


def a_request() -> contextvars.Context:
    """What FastAPI copies into each thread it runs one request's code in (app.py marks every
    request)."""
    with serving_a_request():
        return contextvars.copy_context()


def as_the_request(
    thread: ThreadPoolExecutor, request: contextvars.Context, call: Callable[[], Any]
) -> Any:
    """`call` run on `thread` as the request's code, as FastAPI runs it."""
    return thread.submit(request.copy().run, call).result(PATIENCE)


def test_each_request_is_marked_in_the_threads_it_runs_in(app: FastAPI) -> None:
    # app.py's middleware: unmarked, a request run on a thread where a yield dependency wrongly
    # left a write step would go through that step (the next test).
    seen: list[object | None] = []

    @app.get("/seen-mark", status_code=204)
    def seen_mark() -> None:
        seen.append(this_request())

    anonymous = TestClient(app)  # the route takes no credentials
    for _ in range(2):
        assert anonymous.get("/seen-mark").status_code == 204
    assert None not in seen
    assert seen[0] is not seen[1]


def test_another_request_on_the_thread_a_step_was_left_on_waits_for_it(
    client: TestClient, app: FastAPI
) -> None:
    # A yield dependency that holds writing() leaves its step on a thread FastAPI goes on to run
    # other requests on: they must wait for it like any other, not go through it.
    repositories = app.state.repositories
    store, other = repositories[RESOURCES[0]], repositories[RESOURCES[-1]]
    first, second = a_request(), a_request()
    step: AbstractContextManager[Any] = repositories.writing()
    with ThreadPoolExecutor(1) as left_on, ThreadPoolExecutor(1) as elsewhere:
        as_the_request(left_on, first, step.__enter__)
        inside = as_the_request(left_on, first, lambda: store.add({"name": "Inside"}))
        meanwhile = left_on.submit(second.copy().run, other.add, {"name": "Meanwhile"})
        waited = held_back(meanwhile)
        ending = elsewhere.submit(first.copy().run, step.__exit__, None, None, None)
        with pytest.raises(RuntimeError, match="another thread"):
            ending.result(PATIENCE)
        kept = meanwhile.result(PATIENCE)

    assert waited, "a request went through a step another request left on its thread"
    assert other.get(kept.id) == kept
    assert store.get(inside.id) == inside  # a lock, not a transaction: its write stays


def test_threads_of_one_request_side_by_side_do_not_share_a_step(
    client: TestClient, app: FastAPI
) -> None:
    # An async endpoint may hand sync writes to threads (gathered run_in_threadpool calls): each
    # is a writer of its own, and one waits while the other is between its checks and its write.
    store = app.state.repositories[RESOURCES[0]]
    request = a_request()
    with ThreadPoolExecutor(1) as first, ThreadPoolExecutor(1) as second:
        with store_held(app, first, request):
            meanwhile = second.submit(request.copy().run, store.add, {"name": "Meanwhile"})
            waited = held_back(meanwhile)
        added = meanwhile.result(PATIENCE)

    assert waited, "two threads of one request shared a write step"
    assert store.get(added.id) == added


def begun_on_another_thread(app: FastAPI) -> AbstractContextManager[Any]:
    """`writing()` begun outside any request on a thread of its own, with a record written in
    it: code of the team's own (a job) that hands the block to another thread to end, as the
    caller then does. Outside a request the step is its thread's."""
    repositories = app.state.repositories
    step: AbstractContextManager[Any] = repositories.writing()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(step.__enter__).result(PATIENCE)
        pool.submit(repositories[RESOURCES[0]].add, {"name": "Inside"}).result(PATIENCE)
    return step


def test_a_write_step_ended_on_another_thread_frees_the_store_and_fails(
    client: TestClient, app: FastAPI
) -> None:
    # It must fail, not keep every store locked until a restart.
    step = begun_on_another_thread(app)

    with pytest.raises(RuntimeError, match="another thread"):
        step.__exit__(None, None, None)

    assert app.state.repositories[RESOURCES[0]].exists("name", "Inside")  # a lock: it stays
    # Locked still, the create would wait out BUSY_TIMEOUT and be refused.
    assert create(client, RESOURCES[0], name="Later")["name"] == "Later"


def test_a_step_ended_outside_its_request_frees_the_store(client: TestClient, app: FastAPI) -> None:
    # A request's step ended by code outside any request (a response generator Python finalises
    # on another thread, a plain thread) fails, and frees the store all the same.
    step = app.state.repositories.writing()
    with ThreadPoolExecutor(1) as beginning, ThreadPoolExecutor(1) as outside:
        as_the_request(beginning, a_request(), step.__enter__)
        ending = outside.submit(contextvars.Context().run, step.__exit__, None, None, None)
        with pytest.raises(RuntimeError, match="another thread"):
            ending.result(PATIENCE)

    assert create(client, RESOURCES[0], name="Later")["name"] == "Later"


def test_a_step_is_not_ended_by_another_request(
    client: TestClient, app: FastAPI, pool: ThreadPoolExecutor
) -> None:
    # A request that ends a step it never began (a yield dependency's second end) fails, and must
    # not free the store from under the request that holds it.
    step = app.state.repositories.writing()
    with (
        ThreadPoolExecutor(1) as holder,
        ThreadPoolExecutor(1) as other,
        store_held(app, holder, a_request()),
    ):
        ending = other.submit(a_request().copy().run, step.__exit__, None, None, None)
        with pytest.raises(RuntimeError, match="another thread"):
            ending.result(PATIENCE)
        meanwhile = pool.submit(create, client, RESOURCES[0], name="Meanwhile")
        waited = held_back(meanwhile)

    assert waited, "another request's end freed the store from under its holder"
    assert meanwhile.result(PATIENCE)["name"] == "Meanwhile"


def test_a_thread_whose_block_was_ended_for_it_leaves_a_later_holder_alone(
    client: TestClient, app: FastAPI, pool: ThreadPoolExecutor
) -> None:
    # A thread still nested inside a block another thread ended leaves that level with the same
    # error, and must not free the lock a later holder has taken meanwhile.
    step = app.state.repositories.writing()
    with ThreadPoolExecutor(1) as nested, ThreadPoolExecutor(1) as later:
        nested.submit(step.__enter__).result(PATIENCE)
        nested.submit(step.__enter__).result(PATIENCE)  # a call inside the block takes it again
        with pytest.raises(RuntimeError, match="another thread"):
            step.__exit__(None, None, None)
        with store_held(app, later):
            with pytest.raises(RuntimeError, match="another thread"):
                nested.submit(step.__exit__, None, None, None).result(PATIENCE)
            meanwhile = pool.submit(create, client, RESOURCES[0], name="Meanwhile")
            waited = held_back(meanwhile)

    assert waited, "a nested exit freed the lock another thread held"
    assert meanwhile.result(PATIENCE)["name"] == "Meanwhile"
