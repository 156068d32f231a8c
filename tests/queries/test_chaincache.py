"""In-process chain walks: the same answers as the reference path, kept across pages, and dropped
when a new ingest lands."""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from graph.runner import GraphRunner
from ingest.load import load_dataset
from queries.chaincache import ChainCache, _Lru, ingest_state
from queries.exposure import SECTIONS, chain, chain_exposure, first_levels, rendered_page
from queries.networks import Network
from tests.queries._graph import AS_OF, BANK, NAME, U


def _supply() -> Network:
    # _graph's active upstream of F: S1 -> F 600, S2 -> F 400, S3 -> S1 300, S4 -> S1 100, S4 -> S2 200,
    # S7 -> S3 50, and F -> B1 700 (F's sales: no part of its inputs)
    links = [("S1", "F", 600), ("S2", "F", 400), ("S3", "S1", 300), ("S4", "S1", 100), ("S4", "S2", 200),
             ("S7", "S3", 50), ("F", "B1", 700)]
    return Network([a for a, _, _ in links], [b for _, b, _ in links], [float(v) for _, _, v in links])


def test_walk_distances_values_and_shares_by_hand() -> None:
    w = _supply().walk("F", 3, backward=True, shares=True).set_index("id")
    # S4 reaches F at distance 2 through S1 (100/400 x 0.6) and S2 (200/200 x 0.4): 0.55, value 300
    assert w["distance"].to_dict() == {"S1": 1, "S2": 1, "S3": 2, "S4": 2, "S7": 3}
    assert w.loc["S4", "value"] == 300.0 and w.loc["S4", "share"] == pytest.approx(0.55)
    assert w.loc["S7", "share"] == pytest.approx(50 / 50 * 300 / 400 * 0.6)
    assert list(_supply().walk("F", 1, backward=False, shares=True)["id"]) == ["B1"]
    assert _supply().walk("nobody", 3, backward=True, shares=True).empty


def test_persons_are_reached_but_not_walked_from() -> None:
    # P guarantees F and is itself "guaranteed" by G: G is never reached from F through a person
    net = Network(["P", "G", "Q"], ["F", "P", "F"], [5.0, 7.0, 3.0], source_is_firm=[False, True, True])
    w = net.walk("F", 3, backward=True, shares=False)
    assert sorted(zip(w["id"], w["party"], strict=True)) == [("P", "person"), ("Q", "firm")]


def _plain_walk(links: list[tuple[str, str, float]], focal: str, hops: int, backward: bool,
                person: set[str]) -> dict[str, tuple[int, float, float]]:
    """The reference path's rule (queries.exposure._walk) in plain Python, link by link."""
    near_of: dict[str, list[tuple[str, float]]] = {}
    for a, b, w in links:
        near, far = (b, a) if backward else (a, b)
        near_of.setdefault(near, []).append((far, w))
    seen: dict[str, list[float]] = {focal: [0, 0.0, 1.0]}
    frontier = [focal]
    for hop in range(1, hops + 1):
        level: dict[str, list[float]] = {}
        for near in frontier:
            out = near_of.get(near, [])
            total = sum(w for _, w in out)
            for far, w in out:
                if far in seen:
                    continue
                node = level.setdefault(far, [hop, 0.0, 0.0])
                node[1] += w
                if total > 0:
                    node[2] += w / total * seen[near][2]
        seen.update(level)
        frontier = sorted(k for k in level if k not in person)
    del seen[focal]
    return {k: (int(v[0]), v[1], v[2]) for k, v in seen.items()}


def test_array_walk_equals_the_plain_walk_on_a_random_network() -> None:
    rng = np.random.default_rng(11)
    names = [f"N{i}" for i in range(300)]
    persons = {f"N{i}" for i in range(280, 300)}  # only ever guarantors: never walked from
    pairs = {(names[a], names[b]) for a, b in rng.integers(0, 300, size=(1500, 2)) if a != b}
    links = [(a, b, float(rng.choice([0.0, *rng.uniform(1, 1000, 9)]))) for a, b in sorted(pairs)
             if b not in persons]
    net = Network([a for a, _, _ in links], [b for _, b, _ in links], [w for _, _, w in links],
                  source_is_firm=[a not in persons for a, _, _ in links])
    for focal in ("N0", "N7", "N150", "N299"):
        for backward in (True, False):
            for hops in (1, 3, 5):
                got = net.walk(focal, hops, backward=backward, shares=True).set_index("id")
                ref = _plain_walk(links, focal, hops, backward, persons)
                assert set(got.index) == set(ref), (focal, backward, hops)
                for k, (d, v, sh) in ref.items():
                    assert got.loc[k, "distance"] == d
                    assert got.loc[k, "value"] == pytest.approx(v, rel=1e-12)
                    assert got.loc[k, "share"] == pytest.approx(sh, rel=1e-12, abs=1e-15)
                    assert got.loc[k, "party"] == ("person" if k in persons else "firm")

def test_neighbours_sum_both_directions_and_edges_list_each_link_once() -> None:
    # A sells B 3 and buys 2 from it: one pair, 5 either way; C only buys from A
    net = Network(["A", "B", "A"], ["B", "A", "C"], [3.0, 2.0, 1.0])
    near, far, value = net.neighbours(np.array([net.index["A"], net.index["B"]]))
    got = sorted(zip(net.ids[near], net.ids[far], value.tolist(), strict=True))
    assert got == [("A", "B", 5.0), ("A", "C", 1.0), ("B", "A", 5.0)]
    src, dst, val = net.edges()
    assert sorted(zip(net.ids[src], net.ids[dst], val.tolist(), strict=True)) == [
        ("A", "B", 3.0), ("A", "C", 1.0), ("B", "A", 2.0)]
    assert len(net.neighbours(np.zeros(0, dtype=np.int64))[0]) == 0


def test_derived_values_are_built_once_per_state() -> None:
    from queries.chaincache import IngestState

    class _R:
        settings = type("S", (), {"neo4j_uri": "bolt://x"})()
        database = "neo4j"

    cache, calls = ChainCache(), []
    state = IngestState(as_of=date(2024, 6, 30), token=(1, "r1"))

    def build(value: str) -> str:
        calls.append(value)
        return value

    runner: Any = _R()
    for _ in range(2):
        assert cache.derived_value(runner, state, "esri", date(2024, 6, 30), lambda: build("v")) == "v"
    assert calls == ["v"]
    later = IngestState(as_of=date(2024, 6, 30), token=(2, "r2"))  # a new ingest: built again
    assert cache.derived_value(runner, later, "esri", date(2024, 6, 30), lambda: build("w")) == "w"
    assert calls == ["v", "w"]


def test_lru_builds_once_and_evicts_the_oldest() -> None:
    lru, built = _Lru(2), []

    def build(key: str) -> str:
        built.append(key)
        return key.upper()

    for key in ("a", "b", "a", "c"):
        lru.get_or_build(key, partial(build, key))
    assert built == ["a", "b", "c"] and lru.get("b") is None and lru.get("a") == "A" and len(lru) == 2


def test_cached_chain_equals_the_reference_path(platform: GraphRunner) -> None:
    cache = ChainCache()
    cases: list[tuple[int, str | None, Any]] = [
        (3, None, "both"), (1, "2023-06-30", "both"), (2, None, "upstream")]
    for hops, as_of, direction in cases:
        ref = chain(platform, U["F"], hops=hops, as_of=as_of, direction=direction, lenders=BANK, cache=None)
        got = chain(platform, U["F"], hops=hops, as_of=as_of, direction=direction, lenders=BANK, cache=cache)
        for s in SECTIONS:
            pd.testing.assert_frame_equal(got.sections[s], ref.sections[s])
        assert (got.totals, got.firm_exposure, got.as_of, got.name) == (ref.totals, ref.firm_exposure,
                                                                         ref.as_of, ref.name)
    # and for a firm at the end of guarantee chains, with a person among its guarantors
    for firm in ("G1", "M1", "X2"):
        ref = chain(platform, U[firm], hops=3, lenders=BANK, cache=None)
        got = chain(platform, U[firm], hops=3, lenders=BANK, cache=cache)
        for s in SECTIONS:
            pd.testing.assert_frame_equal(got.sections[s], ref.sections[s])


def test_pages_reuse_the_walked_chain(platform: GraphRunner) -> None:
    cache = ChainCache()
    first = chain_exposure(platform, U["F"], hops=3, lenders=BANK, page=1, page_size=2, cache=cache)
    kept = chain(platform, U["F"], hops=3, lenders=BANK, cache=cache)
    assert len(cache.chains) == 1 and chain(platform, U["F"], hops=3, lenders=BANK, cache=cache) is kept
    second = chain_exposure(platform, U["F"], hops=3, lenders=BANK, page=2, page_size=2, cache=cache)
    assert [NAME[u] for u in first.upstream["uscc"]] + [NAME[u] for u in second.upstream["uscc"]] == [
        "S1", "S2", "S4", "S3"]
    assert second.totals == first.totals and len(cache.chains) == 1
    # another bank is another chain (its exposures differ), not a stale hit
    other = chain(platform, U["F"], hops=3, lenders=[], cache=cache)
    assert other is not kept and other.totals["upstream"]["outstanding"] == 900.0


def test_details_are_kept_per_state_and_current_runs() -> None:
    from types import SimpleNamespace

    from queries.chaincache import IngestState

    runner: Any = SimpleNamespace(settings=SimpleNamespace(neo4j_uri="bolt://x"), database="neo4j")
    cache, asked = ChainCache(), []

    def fetch(usccs: Any) -> dict[str, dict[str, Any]]:
        asked.append(list(usccs))
        return {u: {"uscc": u} for u in usccs}

    day = date(2024, 6, 30)
    one = IngestState(as_of=day, token=(1, "ingest-a"), results=("risk-1", None))
    assert set(cache.details(runner, one, day, ["a", "b"], fetch)) == {"a", "b"}
    cache.details(runner, one, day, ["b", "c"], fetch)
    # a new current risk run (PDs shown on the page) is a new key: everything is read again
    cache.details(runner, IngestState(as_of=day, token=(1, "ingest-a"), results=("risk-2", None)), day,
                  ["a"], fetch)
    assert asked == [["a", "b"], ["c"], ["a"]]


def test_cached_pages_equal_the_reference_pages(platform: GraphRunner) -> None:
    cache = ChainCache()
    for page in (1, 2):
        ref = chain_exposure(platform, U["F"], hops=3, lenders=BANK, page=page, page_size=3, cache=None)
        for _ in range(2):  # the second time from the kept chain and details
            got = chain_exposure(platform, U["F"], hops=3, lenders=BANK, page=page, page_size=3, cache=cache)
            for s in SECTIONS:
                pd.testing.assert_frame_equal(getattr(got, s), getattr(ref, s))
            assert got.to_dict() == ref.to_dict()


def test_a_new_ingest_invalidates_what_was_kept(platform: GraphRunner, tmp_path: Path) -> None:
    cache = ChainCache()
    before = chain_exposure(platform, U["F"], hops=1, lenders=BANK, cache=cache)
    state = ingest_state(platform)
    assert [NAME[u] for u in before.upstream["uscc"]] == ["S1", "S2"]
    # a delta ingest: S3 starts supplying F directly (400) on 2024-03-01
    ds = tmp_path / "delta"
    ds.mkdir()
    (ds / "dataset.yaml").write_text(
        f"source: query-tests\nas_of: {AS_OF}\nmode: delta\ncurrency: CNY\nunit: yuan\n", encoding="utf-8")
    (ds / "firms.csv").write_text("uscc,name,industry,region\n" + "".join(
        f"{U[n]},Firm {n},C3311,350100\n" for n in ("S3", "F")), encoding="utf-8")
    (ds / "supply.csv").write_text("supplier_uscc,buyer_uscc,annual_value,start,end\n"
                                   f"{U['S3']},{U['F']},400,2024-03-01,\n", encoding="utf-8")
    load_dataset(ds, runner=platform)
    assert ingest_state(platform).token != state.token
    after = chain_exposure(platform, U["F"], hops=1, lenders=BANK, cache=cache)
    # inputs now 600 + 400 + 400: S3 joins at distance 1 with a share of 0.4
    got = dict(zip((NAME[u] for u in after.upstream["uscc"]), after.upstream["share"], strict=True))
    assert got == pytest.approx({"S1": 0.6 * 1000 / 1400, "S2": 400 / 1400, "S3": 400 / 1400})
    ref = chain_exposure(platform, U["F"], hops=1, lenders=BANK, cache=None)
    pd.testing.assert_frame_equal(after.upstream, ref.upstream)


def test_the_state_is_read_again_only_once_it_is_max_age_old(platform: GraphRunner) -> None:
    now = [0.0]
    cache = ChainCache(clock=lambda: now[0])
    first = cache.state(platform, max_state_age_s := 1.0)
    assert first == ingest_state(platform)
    now[0] = 0.9
    assert cache.state(platform, max_state_age_s) is first  # not read: under a second old
    assert cache.state(platform) is not first  # the library's default reads it every time
    held = cache.state(platform, max_state_age_s)  # the read just made is the one kept
    now[0] = 2.0
    assert cache.state(platform, max_state_age_s) is not held
    assert cache.state(platform, max_state_age_s) == first  # nothing was ingested meanwhile
    # while one caller reads it again, the others answer with the state held instead of queuing
    held = cache.state(platform, max_state_age_s)
    now[0] = 5.0
    with cache._refreshing:
        assert cache.state(platform, max_state_age_s) is held
    assert cache.state(platform, max_state_age_s) is not held


def test_a_rendered_page_is_kept_with_its_chain(platform: GraphRunner) -> None:
    cache, calls = ChainCache(), []

    def render(page: Any) -> dict[str, Any]:
        calls.append(page.page)
        return page.to_dict()

    kw: dict[str, Any] = {"hops": 3, "lenders": BANK, "page_size": 2, "cache": cache}
    one = rendered_page(platform, U["F"], render, page=1, **kw)
    assert one == chain_exposure(platform, U["F"], page=1, **kw).to_dict()
    assert rendered_page(platform, U["F"], render, page=1, **kw) is one and calls == [1]
    two = rendered_page(platform, U["F"], render, page=2, **kw)
    assert two == chain_exposure(platform, U["F"], page=2, **kw).to_dict() and calls == [1, 2]
    # bounded: the oldest renderings go first
    kept = chain(platform, U["F"], hops=3, lenders=BANK, cache=cache)
    for p in range(3, 12):
        rendered_page(platform, U["F"], render, page=p, **kw)
    assert len(kept.rendered) == 8 and (render, 1, 2, ingest_state(platform).results) not in kept.rendered


def test_no_more_walks_run_at_once_than_the_gate_lets_through(platform: GraphRunner,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from queries.networks import ChainIndex

    cache = ChainCache(walks=2)
    assert cache.walks == 2 and ChainCache().walks >= 1  # 0: one per core
    inside, most, lock = [0], [0], threading.Lock()
    section = ChainIndex.section

    def counted(self: ChainIndex, name: str, focal: str, hops: int) -> Any:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            return section(self, name, focal, hops)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(ChainIndex, "section", counted)
    firms = [U[k] for k in ("F", "S1", "S2", "S3", "S4", "B1")]
    cache.chain_index(platform, cache.state(platform), date.fromisoformat(AS_OF), BANK)  # built once, first
    got: dict[str, Any] = {}
    def ask(f: str) -> None:
        got[f] = chain(platform, f, cache=cache, lenders=BANK)

    threads = [threading.Thread(target=ask, args=(f,)) for f in firms for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= most[0] <= 2 and inside[0] == 0
    for f in firms:  # the gate changes when a walk runs, not what it answers
        assert got[f].totals == chain(platform, f, cache=None, lenders=BANK).totals


def _random_index(seed: int) -> tuple[Any, list[str]]:
    from queries.networks import ChainIndex

    rng = np.random.default_rng(seed)
    names = [f"N{i:03d}" for i in range(200)]
    supply = {(names[a], names[b]) for a, b in rng.integers(0, 200, size=(900, 2)) if a != b}
    guarantee = {(names[a], names[b]) for a, b in rng.integers(0, 200, size=(150, 2)) if a != b}
    nets = {
        "supply": Network([a for a, _ in sorted(supply)], [b for _, b in sorted(supply)],
                          rng.uniform(1, 100, len(supply)).tolist()),
        "guarantee": Network([a for a, _ in sorted(guarantee)], [b for _, b in sorted(guarantee)],
                             rng.uniform(1, 100, len(guarantee)).tolist()),
    }
    lent = names[::3]
    n = len(lent)
    book = pd.DataFrame({"outstanding": rng.uniform(0, 50, n), "undrawn": rng.uniform(0, 5, n),
                         "guarantees_given": np.zeros(n), "worst_rank": rng.integers(0, 5, n)},
                        index=pd.Index(lent, name="uscc"))
    book["exposure"] = book["outstanding"] + book["undrawn"]
    return ChainIndex.build(nets, book), names


def test_a_lists_first_levels_are_the_whole_lists_first_rows() -> None:
    index, names = _random_index(8)
    for focal in names[:40:3]:
        for name in SECTIONS:
            whole = index.section(name, focal, 3)
            for depth in (1, 2):
                first = index.section(name, focal, depth)
                n = len(first)
                assert n == int(np.sum(whole.distance <= depth))
                for col in ("ids", "firm", "distance", "value", "share", "rank", "key"):
                    got, want = getattr(first, col)[:n], getattr(whole, col)[:n]
                    assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f"), col
                assert all(np.array_equal(first.money[c][:n], whole.money[c][:n]) for c in whole.money)
    hubs = index.hubs(0.05)
    assert len(hubs) == 10 and len(index.hubs(0.0)) == 1 and len(index.hubs(1.0)) == 200


def test_a_hubs_first_page_walks_its_first_rows_and_shows_the_whole_chains_totals(
        platform: GraphRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    from queries import chaincache
    from queries.chaincache import warm_up

    monkeypatch.setattr(chaincache, "HUB_SHARE", 1.0)  # every firm of the small platform is a hub here
    cache = ChainCache()
    state = warm_up(platform, cache, lenders=BANK)
    hubs = cache.held_hub_chains(platform, state, state.as_of, BANK, 3)  # type: ignore[arg-type]
    firms = sorted(r["uscc"] for r in platform.read("MATCH (f:Firm) RETURN f.uscc AS uscc"))
    # every firm with a link (a firm with none is in neither network: no walk to save)
    assert hubs is not None and len(hubs) >= 10 and set(hubs) <= set(firms)
    # warm-up read the rows of the firms without loans or guarantees too: their first page sends no
    # query for the firm's own row (the answers below are the reference path's all the same)
    outside = cache.held_outside(platform, state, state.as_of, BANK)  # type: ignore[arg-type]
    book = cache.book(platform, state, state.as_of, BANK)  # type: ignore[arg-type]
    assert outside is not None and len(outside) > 0 and set(outside.index) | set(book.index) == set(firms)
    first_rows = 0
    for firm in firms:
        for page, size in ((1, 1), (1, 2), (2, 2), (1, 100)):
            ref = chain_exposure(platform, firm, hops=3, lenders=BANK, page=page, page_size=size, cache=None)
            got = chain_exposure(platform, firm, hops=3, lenders=BANK, page=page, page_size=size, cache=cache)
            assert got.to_dict() == ref.to_dict(), (firm, page, size)
        cache.chains.clear()
        got = chain_exposure(platform, firm, hops=3, lenders=BANK, page=1, page_size=1, cache=cache)
        first_rows += sum(1 for k in cache.chains._items if "first rows" in k)
        # a later page walks and keeps the whole chain
        chain_exposure(platform, firm, hops=3, lenders=BANK, page=2, page_size=1, cache=cache)
        whole = chain(platform, firm, hops=3, lenders=BANK, cache=cache)
        assert whole.sizes is None and whole.totals == got.totals and whole.counts == got.counts
    # the firms whose first row leaves some list unwalked (the others' first page is their whole chain)
    partial = [f for f in hubs if first_levels(hubs[f][0], 3, 1) is not None]
    assert first_rows == len(partial) and len(partial) >= 5
    # a page that takes every list whole is the whole chain: it is kept under the chain's own key,
    # for every later page
    deep = [f for f in hubs if first_levels(hubs[f][0], 3, 100) is None]
    assert deep
    for firm in deep:
        cache.chains.clear()
        chain_exposure(platform, firm, hops=3, lenders=BANK, page=1, page_size=100, cache=cache)
        assert [k for k in cache.chains._items if "first rows" in k] == [] and len(cache.chains) == 1


def test_the_walk_gate_is_reentrant_per_thread_and_released_on_the_way_out() -> None:
    import threading

    cache = ChainCache(walks=1)
    with cache.walking():
        with cache.walking():  # a first page's rendering holds the gate around its own walk
            pass
        entered = threading.Event()
        other = threading.Thread(target=lambda: (cache.walking().__enter__(), entered.set()))
        other.start()
        assert not entered.is_set()  # the one slot is still ours: the other thread waits
    other.join(10)  # a deadlock guard, not a timing: the slot came free as we left
    assert entered.is_set() and not other.is_alive()
