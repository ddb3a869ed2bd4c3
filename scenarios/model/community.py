"""Population and contact network: a seeded stochastic block model.

Edges are sampled in bulk with numpy (expected counts per block, Poisson
numbers, duplicates dropped) and returned as a compressed adjacency (a list of
starts and an array of contacts), which the rumour loop indexes directly.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np

from ..schema import Scenario


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


def build_population(scenario: Scenario, rng: np.random.Generator) -> Population:
    sizes = [g.size for g in scenario.groups]
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    n = int(offsets[-1])
    group_of = np.repeat(np.arange(len(sizes)), sizes)
    members = [list(range(int(offsets[k]), int(offsets[k + 1]))) for k in range(len(sizes))]
    if scenario.community.mixing == "well_mixed":
        return Population(group_of.tolist(), members, None, None)

    # the blocks of edges: (expected count, first end's offset and range, second end's, and
    # whether only edges across groups count), drawn together below
    blocks: list[tuple[float, int, int, int, int, bool]] = []
    com = scenario.community
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
        blocks.append((sizes[ka] * contacts, int(offsets[ka]), sizes[ka], int(offsets[kb]), sizes[kb], False))

    if not blocks:
        return Population(group_of.tolist(), members, [0] * (n + 1), array("i"))
    # Poisson numbers of edges per block and their ends, block by block (this stream is the
    # network's since the model began: the same seed gives the same network)
    srcs, dsts = [], []
    for mean, a_off, a_size, b_off, b_size, across in blocks:
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
    a, b = a[keep], b[keep]
    # every edge both ways as one key, sorted: duplicates fall together, and the order is
    # the compressed adjacency's (people in turn; each one's contacts after them rising,
    # then those before them rising: the key holds (to - from) mod n, not to)
    key_type = np.int32 if n * n < 2**31 else np.int64
    a, b = a.astype(key_type), b.astype(key_type)
    keys = np.sort(np.concatenate((a * n + (b - a) % n, b * n + (a - b) % n)))
    if keys.size:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    src = keys // n
    dst = (keys % n + src) % n
    starts = np.searchsorted(src, np.arange(n + 1)).tolist()
    # an array, not a list: built by a copy, not one Python int per entry (indexing it
    # costs a little more, but a run reads only the few entries its tellings pick)
    targets = array("i", dst.astype(np.int32).tobytes())
    return Population(group_of.tolist(), members, starts, targets)
