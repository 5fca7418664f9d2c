"""KeyedIndex and Derived: what the informers' consumers keep of each object,
and that they keep nothing of an object once it is gone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubedora.k8s.informer import Derived, KeyedIndex


def body(uid: str, namespace: str, *teams: str) -> dict[str, Any]:
    return {"metadata": {"uid": uid, "namespace": namespace}, "spec": {"teams": list(teams)}}


def by_team(item: Mapping[str, Any]) -> dict[str, str] | None:
    return {team: item["metadata"]["uid"] for team in item["spec"]["teams"]} or None


def test_an_object_moves_between_keys_and_is_forgotten_when_gone() -> None:
    changes: list[tuple[Mapping[str, str], Mapping[str, str]]] = []
    index = KeyedIndex(by_team, lambda old, new: changes.append((old, new)))
    index.upsert("a", body("a", "shop", "red", "blue"), listed=True)
    index.upsert("b", body("b", "shop", "red"), listed=True)
    assert sorted(index["red"]) == ["a", "b"]
    assert index.filed("a") == {"red": "a", "blue": "a"}

    index.upsert("a", body("a", "shop", "green"), listed=False)
    assert sorted(index) == ["green", "red"]
    assert changes[-1] == ({"red": "a", "blue": "a"}, {"green": "a"})

    index.delete("b", body("b", "shop", "red"))
    index.retain(["b"])  # a relist without "a"
    assert len(index) == 0
    assert index.objects == 0
    assert index.filed("a") == {}


def test_an_unchanged_object_is_not_announced_again() -> None:
    changes: list[object] = []
    index = KeyedIndex(by_team, lambda old, new: changes.append(new))
    index.upsert("a", body("a", "shop", "red"), listed=True)
    index.upsert("a", body("a", "shop", "red"), listed=False)
    assert len(changes) == 1


def test_objects_filed_under_the_same_keys_share_one_tuple_of_them() -> None:
    index = KeyedIndex(by_team)
    for uid in ("a", "b", "c"):
        index.upsert(uid, body(uid, "shop", "red", "blue"), listed=True)
    held = {id(index._filed[uid]) for uid in ("a", "b", "c")}
    assert len(held) == 1
    # Once no object uses a tuple of keys, it is not kept either.
    for uid in ("a", "b", "c"):
        index.delete(uid, body(uid, "shop"))
    assert index._key_sets == {}


def test_derived_builds_one_value_per_body_and_files_it_in_each_index() -> None:
    built: list[str] = []

    def derive(item: Mapping[str, Any]) -> list[str] | None:
        built.append(item["metadata"]["uid"])
        return list(item["spec"]["teams"]) or None

    by_namespace: KeyedIndex[str, list[str]] = KeyedIndex()
    by_first_team: KeyedIndex[str, list[str]] = KeyedIndex()
    derived = Derived(
        derive,
        [
            (by_namespace, lambda item, teams: {item["metadata"]["namespace"]: teams}),
            (by_first_team, lambda item, teams: {teams[0]: teams}),
        ],
    )
    derived.upsert("a", body("a", "shop", "red"), listed=True)
    assert built == ["a"]
    [in_namespace] = by_namespace["shop"]
    [in_team] = by_first_team["red"]
    assert in_namespace is in_team

    derived.upsert("a", body("a", "shop"), listed=False)  # nothing to file any more
    assert len(by_namespace) == 0
    assert len(by_first_team) == 0
    derived.upsert("b", body("b", "shop", "red"), listed=True)
    derived.retain([])
    assert by_namespace.objects == 0
    assert by_first_team.objects == 0


def test_an_equal_value_derived_again_is_the_one_already_filed() -> None:
    by_namespace: KeyedIndex[str, tuple[str, ...]] = KeyedIndex()
    # The second index files the value with more of the body, which changed.
    with_version: KeyedIndex[str, tuple[str, tuple[str, ...]]] = KeyedIndex()
    derived = Derived(
        lambda item: tuple(item["spec"]["teams"]),
        [
            (by_namespace, lambda item, teams: {item["metadata"]["namespace"]: teams}),
            (with_version, lambda item, teams: {"all": (item["metadata"]["version"], teams)}),
        ],
    )
    first_body = body("a", "shop", "red")
    derived.upsert("a", {**first_body, "metadata": {**first_body["metadata"], "version": "1"}},
                   listed=True)  # fmt: skip
    [first] = by_namespace["shop"]
    # Its status changed: a new version, the same value.
    derived.upsert("a", {**first_body, "metadata": {**first_body["metadata"], "version": "2"}},
                   listed=False)  # fmt: skip
    [(version, kept)] = with_version["all"]
    assert version == "2"
    assert kept is first
