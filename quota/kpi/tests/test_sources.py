"""The fields a KPI may name: declared per model, followed through links only to declared fields, never a user's internals."""

import pytest
from django.apps import apps
from django.conf import settings
from hypothesis import assume as hypothesis_assume
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from quota.kpi.definitions import DefinitionError, parse
from quota.kpi.sources import READABLE, SOURCES, UnknownField, get_source, readable_fields

# What a person may be filtered or grouped by; the rest of a user (password, tokens, flags, logins,
# e-mail, names) is what the preview oracle read, so it is listed here independently of READABLE.
PERSON = {"id", "team", "role"}
USER_SECRETS = [
    "password",
    "email",
    "is_superuser",
    "is_staff",
    "last_login",
    "username",
    "first_name",
    "last_name",
    "date_joined",
    "auth_token",
]
COUNT = {"measure": {"kind": "count"}, "unit": "count", "better": "higher"}


def filtered(source, path, value="x", op="eq"):
    return {"source": source, **COUNT, "filters": [{"field": path, "op": op, "value": value}]}


@pytest.mark.parametrize("label", sorted(READABLE))
def test_every_declared_field_is_a_column_or_a_link_to_one_record_of_a_declared_model(label):
    model = apps.get_model(label)
    for name in READABLE[label]:
        field = model._meta.get_field(name)
        assert field.concrete and not field.many_to_many, f"{label}.{name}"
        if field.is_relation:
            assert field.related_model._meta.label in READABLE, f"{label}.{name} leads to an undeclared model"


def test_a_person_offers_only_who_they_are_and_where_they_sit():
    assert set(READABLE[settings.AUTH_USER_MODEL]) == PERSON


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_what_a_source_uses_itself_is_declared(source):
    """Its usual date, attribution and grouping paths resolve through the same declarations."""
    found = get_source(source)
    paths = [found.date, found.attribution, f"{found.attribution}__team", *found.dimensions.values()]
    for path in filter(None, paths):
        found.field(path)
    assert {info.path for info in found.fields()} == set(readable_fields(found.model)) | set(found.computed)


@pytest.mark.parametrize("secret", USER_SECRETS)
@pytest.mark.parametrize("link", ["owner", "deal__owner", "company__owner", "contact__owner", "deal__company__owner"])
def test_no_link_reaches_a_users_internals(link, secret):
    path = f"{link}__{secret}"
    with pytest.raises(UnknownField) as error:
        get_source("activities").field(path)  # activities link to a deal, a company and a contact
    assert f"'{path}' is not a field of user that a KPI may use." in str(error.value)
    assert str(error.value).endswith("It may use: id, role, team.")


def _model_paths():
    """Field paths over the whole model graph (reverse relations and every user column included), from a source."""

    @st.composite
    def paths(draw):
        source = draw(st.sampled_from(sorted(SOURCES)))
        model = SOURCES[source].model
        parts = []
        for _ in range(draw(st.integers(1, 4))):
            names = sorted(f.name for f in model._meta.get_fields())
            part = draw(st.sampled_from(names))
            parts.append(part)
            field = model._meta.get_field(part)
            if not field.is_relation or draw(st.booleans()):
                break
            model = field.related_model
        return source, "__".join(parts)

    return paths()


def _declared(source, path):
    """Whether every step of `path` is declared for the model it is on (computed values at the top only)."""
    model = SOURCES[source].model
    parts = path.split("__")
    if parts == [path] and path in SOURCES[source].computed:
        return True
    for index, part in enumerate(parts):
        if part not in READABLE.get(model._meta.label, ()):
            return False
        if index < len(parts) - 1:
            field = model._meta.get_field(part)
            if not field.is_relation:
                return False
            model = field.related_model
    return True


@hypothesis_settings(max_examples=300, deadline=None)
@given(_model_paths())
def test_any_path_off_the_declarations_is_refused_and_no_accepted_path_reads_a_user(found):
    source, path = found
    data = filtered(source, path, op="isnull", value=True)
    try:
        parse(data)
    except DefinitionError as error:
        accepted = False
        message = error.problems[0].message
        assert message.startswith(f"'{path}'") or "is not a link" in message
    else:
        accepted = True
    assert accepted == _declared(source, path)
    if accepted:  # independently of READABLE: a user is never read past who they are
        model = SOURCES[source].model
        for part in path.split("__"):
            if model._meta.label == settings.AUTH_USER_MODEL:
                assert part in PERSON
            field = model._meta.get_field(part)
            model = field.related_model if field.is_relation else model


@st.composite
def _paths_into_a_user(draw):
    """A chain of links from a source to a user, then any name a user answers to (reverse relations included)."""
    source = draw(st.sampled_from(sorted(SOURCES)))
    model, parts = SOURCES[source].model, []
    while model._meta.label != settings.AUTH_USER_MODEL:
        links = sorted(f.name for f in model._meta.get_fields() if f.concrete and f.is_relation and not f.many_to_many)
        hypothesis_assume(links and len(parts) < 5)
        parts.append(draw(st.sampled_from(links)))
        model = model._meta.get_field(parts[-1]).related_model
    parts.append(draw(st.sampled_from(sorted(f.name for f in model._meta.get_fields()))))
    return source, "__".join(parts)


@hypothesis_settings(max_examples=300, deadline=None)
@given(_paths_into_a_user())
def test_a_path_into_a_user_past_who_they_are_is_refused(found):
    source, path = found
    if path.rsplit("__", 1)[-1] in PERSON:
        return
    with pytest.raises(DefinitionError):
        parse(filtered(source, path, op="isnull", value=True))


def test_a_refused_field_is_named_with_what_may_be_used_instead():
    with pytest.raises(DefinitionError) as error:
        parse(filtered("deals", "company__owner__password", "$1000000$wlzz", op="contains"))
    (problem,) = error.value.problems
    assert problem.path == "filters[0].field"
    assert problem.message == "'company__owner__password' is not a field of user that a KPI may use. It may use: id, role, team."
