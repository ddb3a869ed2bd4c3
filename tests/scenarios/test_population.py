"""The population and network: drawn in bulk as ``Generator.integers`` draws them, and the work
that depends only on the scenario done once per scenario object."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import scenarios
from scenarios import simulate
from scenarios.model import community
from scenarios.model.world import World, _constants

LIBRARY = {p.stem: scenarios.load_scenario(p) for p in scenarios.list_library()}


@pytest.mark.parametrize("slug", sorted(LIBRARY))
def test_edges_drawn_in_bulk_are_those_integers_draws(slug):
    layout = community._layout(LIBRARY[slug])
    for seed in range(30):
        bulk, each = np.random.default_rng(seed), np.random.default_rng(seed)
        a, b = community._draw_edges_in_bulk(layout, bulk)
        a2, b2 = community._draw_edges(layout, each)
        assert a.tolist() == a2.tolist() and b.tolist() == b2.tolist()
        # and the generator goes on as after integers (a half word may be waiting)
        assert bulk.permutation(41).tolist() == each.permutation(41).tolist()
        assert bulk.random(3).tolist() == each.random(3).tolist()


def test_a_passed_over_word_puts_the_generator_back_and_draws_each_block():
    s = LIBRARY["crew-shooting-rumour"]
    layout = community._layout(s)
    # thresholds that pass over about half the words: the bulk draw cannot be the same
    forced = dataclasses.replace(layout, first_thresholds=np.full_like(layout.first_thresholds, 2**31))
    rng = np.random.default_rng(5)
    before = rng.bit_generator.state
    assert community._draw_edges_in_bulk(forced, rng) is None
    assert rng.bit_generator.state == before
    # a generator with a half word waiting is drawn block by block too
    rng.integers(0, 10, 1)
    assert community._draw_edges_in_bulk(layout, rng) is None


def test_a_group_of_one_is_drawn_block_by_block(tiny):
    groups = (*tiny.groups[:2], dataclasses.replace(tiny.groups[2], size=1))
    com = dataclasses.replace(tiny.community, links=(("north", "homes", 2.0),))
    s = dataclasses.replace(tiny, groups=groups, community=com)
    assert not community._layout(s).bulk_ok
    first, second = np.random.default_rng(2), np.random.default_rng(2)
    community._draw_edges(community._layout(s), first)
    pop = community.build_population(s, second)
    assert pop.starts[-1] == len(pop.targets) and second.random() == first.random()


def test_scenario_constants_are_kept_per_scenario_object(tiny):
    assert _constants(tiny) is _constants(tiny)
    again = dataclasses.replace(tiny, groups=(*tiny.groups[:2], dataclasses.replace(tiny.groups[2], size=50)))
    assert _constants(again) is not _constants(tiny)
    assert len(_constants(again).anger) == 110
    assert community._layout(again).n == 110


def test_runs_do_not_change_what_they_share(crew):
    first = simulate(crew, crew.expert_path, seed=4)
    first.people_groups.append("changed")  # a caller's change stays in its run
    World(crew, crew.expert_path, 4).env.run(until=30)
    assert simulate(crew, crew.expert_path, seed=4).to_dict() == {
        **first.to_dict(),
        "people_groups": first.people_groups[:-1],
    }


def test_the_scenario_cache_keeps_a_bounded_number_of_scenarios(tiny):
    from scenarios.model.cache import KEPT

    copies = [dataclasses.replace(tiny) for _ in range(KEPT + 6)]
    for s in copies:
        _constants(s)
    assert len(_constants.cache) == KEPT
    assert _constants(copies[-1]) is _constants(copies[-1])
