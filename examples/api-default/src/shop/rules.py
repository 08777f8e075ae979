"""Business rules: checks on a valid body that need the domain or the stored data.

Field-level validation (types, lengths, formats) lives in models.py and is part of
the OpenAPI contract. The rules here run after it, before every create and replace,
and answer with problems already documented for those operations: raise
`problems.Conflict` (409) when the body clashes with stored records, or
`problems.Unprocessable` (422) when it breaks a rule on its own. `current_id` is the
id being replaced, or None on create; `stores` holds every resource's repository by
name, for rules that span resources (an order's customer must exist). Removal rules
run before every delete and may refuse it with a 409 (a customer that orders still
refer to stays). Rules never change the HTTP contract, so openapi.json stays as it is.
"""

from shop import models, problems
from shop.repository import (
    Record,
    Repository,
    Stores,
)


def require_unique(
    records: Repository,
    field: str,
    value: object,
    current_id: int | None,
    label: str,
) -> None:
    """409 unless no other stored record has the same `field`; `label` names the resource.

    The routers run the checks and the write they allow as one step
    (`Repositories.writing()`): no concurrent request can store the value in between.
    """
    if records.exists(field, value, exclude_id=current_id):
        raise problems.Conflict(f"Another {label} already has this {field}.")


def refuse_while_referenced(record: Record, stores: Stores, reference: str) -> None:
    """409 while a stored record of any resource refers to `record` by `reference`
    (`customer_id` for a customer): deleting it would leave that reference dangling.

    Checked in the same step as the delete (`Repositories.writing()`): nothing can come to
    refer to `record` in between.
    """
    label = reference.removesuffix("_id").replace("_", " ")
    for resource, records in stores.items():
        if records.exists(reference, record.id):
            others = resource.replace("_", " ")
            raise problems.Conflict(
                f"Some {others} still refer to this {label}; delete them or point them elsewhere first."
            )


def check_order(
    candidate: models.OrderFields,
    records: Repository,
    current_id: int | None,
    stores: Stores,
) -> None:
    """Refuse `candidate` with a problem if storing it would break a rule of orders."""

    # scaffold:fill rules-orders Body of check_order: the business rules for orders in this API (Orders and customers of the shop.).
    # | `candidate` has exactly the fields of models.OrderFields (the fields-orders region of models.py): use no other.
    # | pydantic has already enforced each field's own constraints (and stripped strings): check what spans fields, records or resources.
    # | Raise problems.Conflict(detail) when it clashes with stored orders (look them up with records.exists(field, value, exclude_id=current_id), or call require_unique);
    # | raise problems.Unprocessable(detail, pointer="#/<field>") when it breaks a domain rule on its own, or refers to a record that does not exist:
    # | look another resource up with stores["<resource>"].get(id) (None when there is none) or stores["<resource>"].exists(field, value) (resources: orders, customers); fall through when it is acceptable.
    # | Keep the name-uniqueness check and add only rules plausible for orders in this domain, each with a short comment saying why; no I/O besides the repositories.
    # | Every body tests/factories.py's new_order builds must pass: the generic CRUD tests post those.
    require_unique(records, "name", candidate.name, current_id, "order")
    # scaffold:end rules-orders


def check_order_removal(record: Record, stores: Stores) -> None:
    """Refuse to delete `record` with a problem if a rule of orders forbids it."""

    # scaffold:fill removal-rules-orders Body of check_order_removal: the rules that keep a stored order from being deleted in this API (Orders and customers of the shop.).
    # | Keep the refuse_while_referenced call: it already refuses while any record refers to this one by order_id, whatever that
    # | record's state. Add only further refusals plausible in this domain, each with a short comment saying why: its own state (a settled
    # | payment), or a reference under another name (`stores["<resource>"].exists("<name>", record.id)`); raise problems.Conflict(detail).
    # | `record.id` is its id; `record.data` its stored fields (models.OrderFields as JSON: dates are ISO strings); read them, and those
    # | of any record read through stores, with .data.get(name): records stored before a field existed lack it. `stores["<resource>"]` is
    # | every resource's repository (orders, customers): .get(id), .exists(field, value) (equality only).
    # | The body tests/factories.py's new_order builds, with nothing referring to it, must stay deletable: the generic tests delete it.
    refuse_while_referenced(record, stores, "order_id")
    # scaffold:end removal-rules-orders


def check_customer(
    candidate: models.CustomerFields,
    records: Repository,
    current_id: int | None,
    stores: Stores,
) -> None:
    """Refuse `candidate` with a problem if storing it would break a rule of customers."""

    # scaffold:fill rules-customers Body of check_customer: the business rules for customers in this API (Orders and customers of the shop.).
    # | `candidate` has exactly the fields of models.CustomerFields (the fields-customers region of models.py): use no other.
    # | pydantic has already enforced each field's own constraints (and stripped strings): check what spans fields, records or resources.
    # | Raise problems.Conflict(detail) when it clashes with stored customers (look them up with records.exists(field, value, exclude_id=current_id), or call require_unique);
    # | raise problems.Unprocessable(detail, pointer="#/<field>") when it breaks a domain rule on its own, or refers to a record that does not exist:
    # | look another resource up with stores["<resource>"].get(id) (None when there is none) or stores["<resource>"].exists(field, value) (resources: orders, customers); fall through when it is acceptable.
    # | Keep the name-uniqueness check and add only rules plausible for customers in this domain, each with a short comment saying why; no I/O besides the repositories.
    # | Every body tests/factories.py's new_customer builds must pass: the generic CRUD tests post those.
    require_unique(records, "name", candidate.name, current_id, "customer")
    # scaffold:end rules-customers


def check_customer_removal(record: Record, stores: Stores) -> None:
    """Refuse to delete `record` with a problem if a rule of customers forbids it."""

    # scaffold:fill removal-rules-customers Body of check_customer_removal: the rules that keep a stored customer from being deleted in this API (Orders and customers of the shop.).
    # | Keep the refuse_while_referenced call: it already refuses while any record refers to this one by customer_id, whatever that
    # | record's state. Add only further refusals plausible in this domain, each with a short comment saying why: its own state (a settled
    # | payment), or a reference under another name (`stores["<resource>"].exists("<name>", record.id)`); raise problems.Conflict(detail).
    # | `record.id` is its id; `record.data` its stored fields (models.CustomerFields as JSON: dates are ISO strings); read them, and those
    # | of any record read through stores, with .data.get(name): records stored before a field existed lack it. `stores["<resource>"]` is
    # | every resource's repository (orders, customers): .get(id), .exists(field, value) (equality only).
    # | The body tests/factories.py's new_customer builds, with nothing referring to it, must stay deletable: the generic tests delete it.
    refuse_while_referenced(record, stores, "customer_id")
    # scaffold:end removal-rules-customers
