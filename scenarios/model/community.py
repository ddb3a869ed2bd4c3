"""Population and contact network: a seeded stochastic block model.

Edges are sampled in bulk with numpy (expected counts per block, Poisson
numbers, duplicates dropped) and returned as a compressed adjacency (a list of
starts and an array of contacts), which the rumour loop indexes directly.

What depends only on the scenario (groups, members, the blocks of edges) is worked out
once per scenario object and shared by its runs (read-only); a run draws only its edges.
Their ends are the numbers ``Generator.integers`` would draw, block by block, but made from
the generator's raw words in one pass (see ``_draw_edges_in_bulk``): the same network from
the same seed, without ``integers``' fixed cost per call (most of a run's set-up before).
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass

import numpy as np

from ..schema import Scenario
from .cache import per_scenario


@dataclass
class Population:
    group_of: list[int]  # person -> group index
    members: list[list[int]]  # group index -> people
    # compressed adjacency: person i's contacts are targets[starts[i]:starts[i + 1]];
    # both None when the scenario is well mixed
    starts: list[int] | None
    targets: array | None  # int32

    @property
    def adjacency(self) -> list[list[int]] | None:
        if self.starts is None:
            return None
        return [self.targets[self.starts[i] : self.starts[i + 1]].tolist() for i in range(len(self.group_of))]


@dataclass(frozen=True)
class _Layout:
    """What a scenario's population is before any draw: the same in every run."""

    n: int
    group_of: np.ndarray
    group_list: list[int]  # shared by the runs: read-only
    members: list[list[int]]  # shared by the runs: read-only
    # the blocks of edges: (expected count, first end's offset and range, second end's, and
    # whether only edges across groups count), drawn in this order
    blocks: tuple[tuple[float, int, int, int, int, bool], ...]
    network: bool
    # per block, its first ends' and its second ends': range, 2**32 % range (a word giving
    # less is passed over) and offset, for _draw_edges_in_bulk
    first_sizes: np.ndarray
    first_thresholds: np.ndarray
    first_offsets: np.ndarray
    second_sizes: np.ndarray
    second_thresholds: np.ndarray
    second_offsets: np.ndarray
    across: int | None  # the block whose edges count only across groups, if any
    bulk_ok: bool  # every range over 1 and under 2**32 (each end takes one word)
    key_type: type  # of the adjacency's keys: int32 while n * n fits
    people: np.ndarray  # 0..n, of key_type
    people_n: np.ndarray  # people * n: where each person's keys begin


@per_scenario
def _layout(scenario: Scenario) -> _Layout:
    """The scenario's groups, members and blocks of edges (the same in all its runs)."""
    sizes = [g.size for g in scenario.groups]
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    n = int(offsets[-1])
    group_of = np.repeat(np.arange(len(sizes)), sizes)
    members = [list(range(int(offsets[k]), int(offsets[k + 1]))) for k in range(len(sizes))]
    blocks: list[tuple[float, int, int, int, int, bool]] = []
    com = scenario.community
    network = com.mixing != "well_mixed"
    if network:
        # inside each group: about contacts_within contacts per person
        for k, size in enumerate(sizes):
            if size < 2 or com.contacts_within <= 0:
                continue
            off = int(offsets[k])
            blocks.append((size * com.contacts_within / 2, off, size, off, size, False))
        # between groups: about contacts_between contacts per person, random across other groups
        if len(sizes) > 1 and com.contacts_between > 0:
            p = np.asarray(sizes, dtype=float) / n
            same = float((p**2).sum())
            blocks.append((n * com.contacts_between / 2 / max(1e-9, 1 - same), 0, n, 0, n, True))
        # named links: each member of the first group gets about `contacts` in the second
        index = {g.id: k for k, g in enumerate(scenario.groups)}
        for first, second, contacts in com.links:
            ka, kb = index[first], index[second]
            if not (sizes[ka] and sizes[kb]):
                continue
            blocks.append(
                (sizes[ka] * contacts, int(offsets[ka]), sizes[ka], int(offsets[kb]), sizes[kb], False)
            )
    key_type = np.int32 if n * n < 2**31 else np.int64
    people = np.arange(n + 1, dtype=key_type)
    first_sizes = [block[2] for block in blocks]
    second_sizes = [block[4] for block in blocks]
    return _Layout(
        n,
        group_of,
        group_of.tolist(),
        members,
        tuple(blocks),
        network,
        np.asarray(first_sizes, dtype=np.uint64),
        np.asarray([(1 << 32) % size for size in first_sizes], dtype=np.uint64),
        np.asarray([block[1] for block in blocks], dtype=key_type),
        np.asarray(second_sizes, dtype=np.uint64),
        np.asarray([(1 << 32) % size for size in second_sizes], dtype=np.uint64),
        np.asarray([block[3] for block in blocks], dtype=key_type),
        next((i for i, block in enumerate(blocks) if block[5]), None),
        all(1 < size < 2**32 for size in first_sizes + second_sizes),
        key_type,
        people,
        people * n,
    )


def _draw_edges(layout: _Layout, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each block's Poisson number of edges and their ends, drawn block by block with
    ``Generator.integers`` (this stream is the network's since the model began: the same seed
    gives the same network); the ends' pairs, across blocks, with self-edges and a between
    block's edges inside one group left out (the order of pairs does not matter)."""
    srcs, dsts = [], []
    group_of = layout.group_of
    for mean, a_off, a_size, b_off, b_size, across in layout.blocks:
        m = rng.poisson(mean)
        a = rng.integers(0, a_size, m) + a_off
        b = rng.integers(0, b_size, m) + b_off
        if across:
            keep = group_of[a] != group_of[b]
            a, b = a[keep], b[keep]
        srcs.append(a)
        dsts.append(b)
    a = np.concatenate(srcs)
    b = np.concatenate(dsts)
    keep = a != b
    return a[keep], b[keep]


_LOW = np.uint64(0xFFFFFFFF)
_HALF = np.uint64(32)


def _bounded(words: list[np.ndarray], counts: list[int], sizes, thresholds, offsets) -> np.ndarray | None:
    """``integers(0, size, count) + offset`` per block from the blocks' 32-bit ``words``, or
    None if a word would have been passed over (see ``_draw_edges_in_bulk``)."""
    # (the methods, not numpy's functions: those add a Python call each)
    scaled = np.concatenate(words).astype(np.uint64) * sizes.repeat(counts)
    if np.count_nonzero(scaled & _LOW < thresholds.repeat(counts)):
        return None
    return (scaled >> _HALF).astype(offsets.dtype) + offsets.repeat(counts)


def _draw_edges_in_bulk(layout: _Layout, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
    """``_draw_edges``' numbers (the same pairs, from the same stream) with a few numpy passes
    over all blocks' ends instead of two ``integers`` calls per block, whose fixed cost was
    most of a run's set-up; None (and the generator as it was) when it cannot tell they are
    the same.

    ``integers(0, size, m)`` takes m 32-bit words of a PCG64 generator (``next_uint32``: the low
    half of a 64-bit word, then its high half) and makes each ``word * size >> 32``, passing
    over a word whose low 32 bits of ``word * size`` fall below ``2**32 % size`` (Lemire).
    A block's two calls take 2m words: m whole 64-bit words (``random_raw(m)``) when no half
    word is waiting, as in a fresh generator, and none is left waiting after (Poisson numbers
    take whole words, and leave a waiting half alone). So: a block's Poisson number, then its
    m raw words, block by block; then every end at once. A passed-over word (under one in a
    million at these sizes) would shift every number after it: then the generator is put
    back and ``_draw_edges`` draws them."""
    bg = rng.bit_generator
    if type(bg) is not np.random.PCG64 or sys.byteorder != "little":
        return None
    state = bg.state
    if state["has_uint32"] or not layout.bulk_ok:
        return None
    counts, first, second = [], [], []
    for block in layout.blocks:
        m = int(rng.poisson(block[0]))
        words = bg.random_raw(m).view(np.uint32)
        counts.append(m)
        first.append(words[:m])
        second.append(words[m:])
    a = _bounded(first, counts, layout.first_sizes, layout.first_thresholds, layout.first_offsets)
    b = _bounded(second, counts, layout.second_sizes, layout.second_thresholds, layout.second_offsets)
    if a is None or b is None:
        bg.state = state
        return None
    keep = a != b
    if layout.across is not None:  # the between block: only its edges across groups count
        lo = sum(counts[: layout.across])
        hi = lo + counts[layout.across]
        group_of = layout.group_of
        keep[lo:hi] &= group_of[a[lo:hi]] != group_of[b[lo:hi]]
    return a[keep], b[keep]


def build_population(scenario: Scenario, rng: np.random.Generator) -> Population:
    lay = _layout(scenario)
    n, members = lay.n, lay.members
    if not lay.network:
        return Population(lay.group_list, members, None, None)
    if not lay.blocks:
        return Population(lay.group_list, members, [0] * (n + 1), array("i"))
    drawn = _draw_edges_in_bulk(lay, rng)
    a, b = drawn if drawn is not None else _draw_edges(lay, rng)
    # every edge both ways as one key, sorted: duplicates fall together, and the order is
    # the compressed adjacency's (people in turn; each one's contacts after them rising,
    # then those before them rising: the key holds (to - from) mod n, not to). No division
    # (slow in numpy): a != b, so (b - a) mod n is b - a, or that plus n, and (a - b) mod n
    # is n minus it (x + (x >> sign & n) adds n to a negative x, faster than np.where)
    key_type = lay.key_type
    sign = 31 if key_type is np.int32 else 63
    a, b = a.astype(key_type, copy=False), b.astype(key_type, copy=False)
    d = b - a
    ahead = d + (d >> sign & n)
    keys = np.concatenate((a * n + ahead, b * n + (n - ahead)))
    keys.sort()
    if keys.size:
        first = np.empty(keys.size, dtype=bool)  # the first of each run of equal keys
        first[0] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        keys = keys[first]
    # person i's keys are those from i * n on; a key's contact is i plus its rest, mod n
    starts = keys.searchsorted(lay.people_n)
    src = lay.people[:-1].repeat(starts[1:] - starts[:-1])
    dst = keys - src * n + src - n
    dst += dst >> sign & n
    # an array, not a list: built by a copy, not one Python int per entry (indexing it
    # costs a little more, but a run reads only the few entries its tellings pick)
    targets = array("i", dst.astype(np.int32, copy=False).tobytes())
    return Population(lay.group_list, members, starts.tolist(), targets)
