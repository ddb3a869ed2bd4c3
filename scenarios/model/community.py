"""Population and contact network: a seeded stochastic block model.

Edges are sampled in bulk with numpy (expected counts per block, Poisson
numbers, duplicates dropped) and returned as plain adjacency lists, which the
rumour loop indexes fastest.
"""

from __future__ import annotations

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
    targets: list[int] | None

    @property
    def adjacency(self) -> list[list[int]] | None:
        if self.starts is None:
            return None
        return [self.targets[self.starts[i] : self.starts[i + 1]] for i in range(len(self.group_of))]


def build_population(scenario: Scenario, rng: np.random.Generator) -> Population:
    sizes = [g.size for g in scenario.groups]
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    n = int(offsets[-1])
    group_of = np.repeat(np.arange(len(sizes)), sizes)
    members = [list(range(int(offsets[k]), int(offsets[k + 1]))) for k in range(len(sizes))]
    if scenario.community.mixing == "well_mixed":
        return Population(group_of.tolist(), members, None, None)

    srcs, dsts = [], []
    com = scenario.community
    # inside each group: about contacts_within contacts per person
    for k, size in enumerate(sizes):
        if size < 2 or com.contacts_within <= 0:
            continue
        m = rng.poisson(size * com.contacts_within / 2)
        a = rng.integers(0, size, m) + offsets[k]
        b = rng.integers(0, size, m) + offsets[k]
        srcs.append(a)
        dsts.append(b)
    # between groups: about contacts_between contacts per person, random across other groups
    if len(sizes) > 1 and com.contacts_between > 0:
        p = np.asarray(sizes, dtype=float) / n
        same = float((p**2).sum())
        m = rng.poisson(n * com.contacts_between / 2 / max(1e-9, 1 - same))
        a = rng.integers(0, n, m)
        b = rng.integers(0, n, m)
        keep = group_of[a] != group_of[b]
        srcs.append(a[keep])
        dsts.append(b[keep])
    # named links: each member of the first group gets about `contacts` in the second
    index = {g.id: k for k, g in enumerate(scenario.groups)}
    for first, second, contacts in com.links:
        ka, kb = index[first], index[second]
        m = rng.poisson(sizes[ka] * contacts)
        srcs.append(rng.integers(0, sizes[ka], m) + offsets[ka])
        dsts.append(rng.integers(0, sizes[kb], m) + offsets[kb])

    if srcs:
        a = np.concatenate(srcs)
        b = np.concatenate(dsts)
        keep = a != b
        lo = np.minimum(a[keep], b[keep])
        hi = np.maximum(a[keep], b[keep])
        # np.unique's result (sorted, distinct), by a plain sort: cheaper on these sizes
        codes = np.sort(lo.astype(np.int64) * n + hi)
        if codes.size:
            codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
        lo, hi = codes // n, codes % n
        src = np.concatenate((lo, hi))
        dst = np.concatenate((hi, lo))
        # a stable sort gives the same order whatever its algorithm; on 16-bit keys numpy's is
        # a radix sort, several times faster here
        order = np.argsort(src.astype(np.int16) if n < 2**15 else src, kind="stable")
        targets = dst[order].tolist()
        starts = np.searchsorted(src[order], np.arange(n + 1)).tolist()
    else:
        targets, starts = [], [0] * (n + 1)
    return Population(group_of.tolist(), members, starts, targets)
