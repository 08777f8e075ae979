"""One router per resource: `crud_router` builds the endpoints, `RESOURCES` lists what
differs between resources (names, models, rules)."""

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel

from shop import models, rules
from shop.auth import require_api_key
from shop.pagination import (
    DEFAULT_LIMIT,
    Limit,
    Offset,
    page_links,
)
from shop.problems import (
    ProblemError,
    problem_responses,
)
from shop.repository import (
    Record,
    Repositories,
    Repository,
    Stores,
)

FieldsT = TypeVar("FieldsT", bound=BaseModel)
ReadT = TypeVar("ReadT", bound=BaseModel)
PageT = TypeVar("PageT", bound=BaseModel)
EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])

LOCATION_HEADER = {
    "Location": {"description": "URL of the created record", "schema": {"type": "string"}}
}


@dataclass(frozen=True)
class Resource(Generic[FieldsT, ReadT, PageT]):
    """What makes a resource different from the others."""

    name: str  # plural: URL segment, tag, repository key
    singular: str  # path parameter, operation ids, messages
    create_model: type[FieldsT]
    update_model: type[FieldsT]
    read_model: type[ReadT]
    page_model: type[PageT]
    check: Callable[[FieldsT, Repository, int | None, Stores], None]
    check_removal: Callable[[Record, Stores], None]


RESOURCES: list[Resource[Any, Any, Any]] = [
    Resource(
        name="orders",
        singular="order",
        create_model=models.OrderCreate,
        update_model=models.OrderUpdate,
        read_model=models.OrderRead,
        page_model=models.OrderPage,
        check=rules.check_order,
        check_removal=rules.check_order_removal,
    ),
    Resource(
        name="customers",
        singular="customer",
        create_model=models.CustomerCreate,
        update_model=models.CustomerUpdate,
        read_model=models.CustomerRead,
        page_model=models.CustomerPage,
        check=rules.check_customer,
        check_removal=rules.check_customer_removal,
    ),
]


def body_type(model: type[BaseModel]) -> Callable[[EndpointT], EndpointT]:
    """Make `model` the type of the endpoint's `body` parameter, as FastAPI sees it.

    The endpoints below are generic (`body: FieldsT`), which mypy checks but which
    means nothing at runtime. FastAPI reads the body model from the annotations when
    the route is registered, so they must name the resource's own class by then.
    """

    def apply(endpoint: EndpointT) -> EndpointT:
        endpoint.__annotations__["body"] = model
        return endpoint

    return apply


def crud_router(resource: Resource[FieldsT, ReadT, PageT]) -> APIRouter:
    """List, create, get, replace and delete for one resource, under `/<name>`."""
    name, singular = resource.name, resource.singular
    label = singular.replace("_", " ")
    id_name = f"{singular}_id"
    item_path = "/{" + id_name + "}"
    RecordId = Annotated[int, Path(alias=id_name, description=f"Id of the {label}")]

    def stores(request: Request) -> Repositories:
        repositories: Repositories = request.app.state.repositories
        return repositories

    def repository(request: Request) -> Repository:
        return stores(request)[name]

    Records = Annotated[Repository, Depends(repository)]
    AllRecords = Annotated[Repositories, Depends(stores)]

    def read(record: Record) -> ReadT:
        return resource.read_model.model_validate(record.as_dict())

    def not_found(record_id: int) -> ProblemError:
        return ProblemError(HTTPStatus.NOT_FOUND, f"There is no {label} with id {record_id}.")

    router = APIRouter(
        prefix=f"/{name}",
        tags=[name],
        dependencies=[Depends(require_api_key)],
        # Every operation reads or writes the store, which may be too busy to wait for: a 503.
        responses=problem_responses(401, 422, 503),
    )

    @router.get(
        "",
        operation_id=f"list_{name}",
        summary=f"List {name.replace('_', ' ')}",
        response_model=resource.page_model,
        response_description=f"A page of {name.replace('_', ' ')}",
    )
    def list_records(
        request: Request, records: Records, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> PageT:
        total = records.count()
        return resource.page_model(
            items=[read(record) for record in records.list_page(limit=limit, offset=offset)],
            total=total,
            limit=limit,
            offset=offset,
            links=page_links(request, limit=limit, offset=offset, total=total),
        )

    @router.post(
        "",
        status_code=HTTPStatus.CREATED,
        operation_id=f"create_{singular}",
        summary=f"Create {label}",
        response_model=resource.read_model,
        response_description=f"The created {label}",
        responses={HTTPStatus.CREATED: {"headers": LOCATION_HEADER}, **problem_responses(409)},
    )
    @body_type(resource.create_model)
    def create_record(
        body: FieldsT, request: Request, response: Response, records: Records, every: AllRecords
    ) -> ReadT:
        # The checks and the write are one step: a concurrent request cannot slip between them.
        with every.writing():
            resource.check(body, records, None, every)
            record = records.add(body.model_dump(mode="json"))
        response.headers["Location"] = str(
            request.url_for(f"get_{singular}", **{id_name: str(record.id)})
        )
        return read(record)

    @router.get(
        item_path,
        name=f"get_{singular}",
        operation_id=f"get_{singular}",
        summary=f"Get {label}",
        response_model=resource.read_model,
        response_description=f"The {label}",
        responses=problem_responses(404),
    )
    def get_record(record_id: RecordId, records: Records) -> ReadT:
        record = records.get(record_id)
        if record is None:
            raise not_found(record_id)
        return read(record)

    @router.put(
        item_path,
        operation_id=f"replace_{singular}",
        summary=f"Replace {label}",
        response_model=resource.read_model,
        response_description=f"The {label} as stored now",
        responses=problem_responses(404, 409),
    )
    @body_type(resource.update_model)
    def replace_record(
        record_id: RecordId, body: FieldsT, records: Records, every: AllRecords
    ) -> ReadT:
        with every.writing():
            if records.get(record_id) is None:
                raise not_found(record_id)
            resource.check(body, records, record_id, every)
            record = records.replace(record_id, body.model_dump(mode="json"))
        if record is None:  # cannot happen inside writing(); it narrows the type
            raise not_found(record_id)
        return read(record)

    @router.delete(
        item_path,
        status_code=HTTPStatus.NO_CONTENT,
        response_class=Response,
        operation_id=f"delete_{singular}",
        summary=f"Delete {label}",
        response_description=f"The {label} is gone",
        responses=problem_responses(404, 409),
    )
    def delete_record(record_id: RecordId, records: Records, every: AllRecords) -> Response:
        with every.writing():
            record = records.get(record_id)
            if record is None:
                raise not_found(record_id)
            resource.check_removal(record, every)
            deleted = records.delete(record_id)
        if not deleted:  # cannot happen inside writing(): the get above found it
            raise not_found(record_id)
        return Response(status_code=HTTPStatus.NO_CONTENT)

    return router


def resource_routers() -> list[APIRouter]:
    return [crud_router(resource) for resource in RESOURCES]
