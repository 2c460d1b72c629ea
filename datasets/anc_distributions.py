"""The ANC tasks' data: memory layouts and input distributions.

The six tasks of the paper's Table 1 follow docs/anc-tasks.md literally: cells
are 0-based, `u` is `rng.random()` (uniform on [0, 1)) and
`randint(a, b) = a + floor(u * (b - a))`, an integer in [a, b-1]. A cell the
description does not mention is 0. Four more tasks come from the paper's
supplementary set (Kurach et al.'s Copy, Reverse and ListSearch, and a
shortest path); their layouts and distributions are documented on their
samplers.

Every example is `(input, target, mask)`, three `[M]` arrays: the input
memory, the input with the task's output applied, and the cells the loss and
the correctness check look at. The `anc_tasks` builder stores `sample`'s
output; `tf_anc.tasks` adds what the machine needs to solve a task (its step
budget and generic program).
"""

import dataclasses
import functools
import math
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

Example = Tuple[np.ndarray, np.ndarray, np.ndarray]
Sampler = Callable[[np.random.Generator, str], Example]

BIASED = "biased"
UNBIASED = "unbiased"
# ListK's other reading of docs/anc-tasks.md's note: L in 2..8 and k in 1..L
# (k averages 3, so the generic program averages the paper's 18 iterations).
BIASED_K_UPTO_L = "biased_k_upto_l"


@dataclasses.dataclass(frozen=True)
class TaskData:
  """What a task's examples are: their memory size and distributions."""
  name: str  # "access", "listk", ...
  memory_size: int  # M
  distributions: Tuple[str, ...]
  # sampler(rng, distribution) -> one (input, target, mask) example.
  sampler: Sampler


def _randint(rng: np.random.Generator, a: float, b: float) -> int:
  """The tasks' `randint(a, b) = a + floor(u * (b - a))`, in [a, b-1]."""
  return a + math.floor(rng.random() * (b - a))


def _value(rng: np.random.Generator, size: int) -> int:
  """A nonzero value `1 + floor(u * (M-1))`."""
  return 1 + math.floor(rng.random() * (size - 1))


def _example(memory: Sequence[int], target: Sequence[int],
             cells: Sequence[int]) -> Example:
  mask = np.zeros(len(memory), dtype=bool)
  mask[list(cells)] = True
  return (np.asarray(memory, dtype=np.int32),
          np.asarray(target, dtype=np.int32), mask)


def _access(size: int, rng: np.random.Generator, distribution: str) -> Example:
  """mem[0] = k, array A at mem[1..]; target mem[0] = A[k]. Mask: cell 0.

  unbiased: every cell `floor(u*M)`, then k -= 3 when k + 2 > M.
  biased: as unbiased, then k = 3 (the target is always mem[4]).
  """
  memory = [math.floor(rng.random() * size) for _ in range(size)]
  if memory[0] + 2 > size:
    memory[0] -= 3
  if distribution == BIASED:
    memory[0] = 3
  target = list(memory)
  target[0] = memory[memory[0] + 1]
  return _example(memory, target, [0])


def _swap(size: int, rng: np.random.Generator, distribution: str) -> Example:
  """mem[0] = p, mem[1] = q, array A of length L at mem[2..]; swap A[p], A[q].

  Mask: cells 2+p and 2+q. Values are `1 + floor(u*(M-1))`.
  unbiased: L = randint(2, M-2); p, q = randint(0, L-1) each.
  biased: L = 3 + floor(u*(M-5)); p = 0, q = 2.
  """
  if distribution == BIASED:
    length = 3 + math.floor(rng.random() * (size - 5))
  else:
    length = _randint(rng, 2, size - 2)
  values = [_value(rng, size) for _ in range(length)]
  if distribution == BIASED:
    p, q = 0, 2
  else:
    p = _randint(rng, 0, length - 1)
    q = _randint(rng, 0, length - 1)
  memory = [0] * size
  memory[0], memory[1] = p, q
  memory[2:2 + length] = values
  target = list(memory)
  target[2 + p], target[2 + q] = memory[2 + q], memory[2 + p]
  return _example(memory, target, [2 + p, 2 + q])


def _increment(size: int, rng: np.random.Generator,
               distribution: str) -> Example:
  """A zero-terminated array from mem[0]; add 1 to every element.

  unbiased: L = 1 + floor(u*(M-2)) values `1 + floor(u*(M-2))`, then zeros.
    Mask: the elements and the terminating 0.
  biased: one value v = 1 + floor(u*(M-2)) in cells 0..M-2, mem[M-1] = 0.
    Mask: all cells.
  """
  if distribution == BIASED:
    value = 1 + math.floor(rng.random() * (size - 2))
    values = [value] * (size - 1)
    cells = range(size)
  else:
    length = 1 + math.floor(rng.random() * (size - 2))
    values = [1 + math.floor(rng.random() * (size - 2))
              for _ in range(length)]
    cells = range(length + 1)
  memory = values + [0] * (size - len(values))
  target = [value + 1 for value in values] + [0] * (size - len(values))
  return _example(memory, target, cells)


def _write_list(rng: np.random.Generator, memory: List[int],
                values: Sequence[int], num_slots: int,
                contiguous: bool) -> List[int]:
  """Writes a linked list of `values` and its head into mem[0].

  A node at address a is mem[a] = the next node's address (0 for the last)
  and mem[a+1] = its value. Contiguous nodes lie in list order from address
  3; otherwise node i goes to a distinct random slot `pos = randint(0,
  num_slots)`, address 3 + 2*pos. Returns the nodes' addresses in list order.
  """
  if contiguous:
    addresses = [3 + 2 * i for i in range(len(values))]
  else:
    positions = []
    while len(positions) < len(values):
      position = _randint(rng, 0, num_slots)
      if position not in positions:
        positions.append(position)
    addresses = [3 + 2 * position for position in positions]
  for address, following, value in zip(addresses, addresses[1:] + [0], values):
    memory[address] = following
    memory[address + 1] = value
  memory[0] = addresses[0]
  return addresses


def _listk(size: int, rng: np.random.Generator, distribution: str) -> Example:
  """mem[0] = head, mem[1] = k, mem[2] = 2; target mem[2] = k-th node's value.

  Nodes as in `_write_list`, values `1 + floor(u*(M-1))`. Mask: cell 2.
  unbiased: L = randint(2, 8), k = randint(1, L-1), random slots
    randint(0, 7).
  biased: contiguous nodes, head 3; L = randint(2, 8), k = randint(1, L)
    (the generic program averages 4k+6 = 15 iterations).
  biased_k_upto_l: as biased with L = randint(2, 9), k = randint(1, L+1):
    L in 2..8, k in 1..L (averages the paper's 18 iterations).
  """
  upto_l = distribution == BIASED_K_UPTO_L
  length = _randint(rng, 2, 9 if upto_l else 8)
  values = [_value(rng, size) for _ in range(length)]
  if distribution == UNBIASED:
    k = _randint(rng, 1, length - 1)
  else:
    k = _randint(rng, 1, length + 1 if upto_l else length)
  memory = [0] * size
  memory[1], memory[2] = k, 2
  _write_list(rng, memory, values, 7, contiguous=distribution != UNBIASED)
  target = list(memory)
  target[2] = values[k - 1]
  return _example(memory, target, [2])


def _addition(size: int, rng: np.random.Generator,
              distribution: str) -> Example:
  """mem[0] = a, mem[1] = b; target mem[0] = a + b. Mask: cell 0.

  unbiased (the only one): a = randint(0, M-2), b = randint(0, M-a-1).
  """
  del distribution  # Addition has only the unbiased distribution.
  a = _randint(rng, 0, size - 2)
  b = _randint(rng, 0, size - a - 1)
  memory = [0] * size
  memory[0], memory[1] = a, b
  target = list(memory)
  target[0] = a + b
  return _example(memory, target, [0])


def _sort(size: int, rng: np.random.Generator, distribution: str) -> Example:
  """A zero-terminated array of values >= 1 from mem[0]; sort it ascending.

  Mask: the elements.
  unbiased: L = randint(1, 4) values `1 + floor(u*(M-1))`.
  biased: [first, second, third] with first, second = randint(1, M/2) and
    third = max(first, second) + floor(u*(M - max(first, second))): only
    the first two can be out of order.
  """
  if distribution == BIASED:
    first = _randint(rng, 1, size / 2)
    second = _randint(rng, 1, size / 2)
    largest = max(first, second)
    values = [first, second,
              largest + math.floor(rng.random() * (size - largest))]
  else:
    length = _randint(rng, 1, 4)
    values = [_value(rng, size) for _ in range(length)]
  memory = values + [0] * (size - len(values))
  target = sorted(values) + [0] * (size - len(values))
  return _example(memory, target, range(len(values)))


def _copy_layout(size: int, rng: np.random.Generator,
                 distribution: str) -> Tuple[List[int], List[int], int]:
  """Copy's and Reverse's input: (memory, the array A, destination d).

  mem[0] = d, A at mem[1..L] (values `1 + floor(u*(M-1))`), mem[L+1] = 0,
  and L+2 <= d, d+L <= M-1 so that the destination mem[d..d+L] (the output
  and its terminating 0) lies past the input.
  unbiased: L = randint(1, (M-1)/2), d = randint(L+2, M-L).
  biased: L = (M-3)/2 and d = L+2 always (a fixed-size array written right
    after its own terminator): a program can copy with constant addresses,
    without testing for the end.
  """
  if distribution == BIASED:
    length = (size - 3) // 2
  else:
    length = _randint(rng, 1, (size - 1) / 2)
  values = [_value(rng, size) for _ in range(length)]
  destination = length + 2
  if distribution == UNBIASED:
    destination = _randint(rng, length + 2, size - length)
  memory = [0] * size
  memory[0] = destination
  memory[1:1 + length] = values
  return memory, values, destination


def _copy(size: int, rng: np.random.Generator, distribution: str) -> Example:
  """Copy the zero-terminated array at mem[1..] to mem[mem[0]..].

  Layout and distributions: `_copy_layout`. Mask: the copy and its
  terminating 0, mem[d..d+L].
  """
  memory, values, destination = _copy_layout(size, rng, distribution)
  target = list(memory)
  target[destination:destination + len(values)] = values
  return _example(memory, target,
                  range(destination, destination + len(values) + 1))


def _reverse(size: int, rng: np.random.Generator,
             distribution: str) -> Example:
  """Write the zero-terminated array at mem[1..] reversed at mem[mem[0]..].

  Layout and distributions: `_copy_layout`. Mask: the reversed copy and its
  terminating 0, mem[d..d+L].
  """
  memory, values, destination = _copy_layout(size, rng, distribution)
  target = list(memory)
  target[destination:destination + len(values)] = values[::-1]
  return _example(memory, target,
                  range(destination, destination + len(values) + 1))


def _listsearch(size: int, rng: np.random.Generator,
                distribution: str) -> Example:
  """mem[0] = head, mem[1] = v, mem[2] = 2; target mem[2] = the address of
  the first node holding v.

  ListK's list: L = randint(2, 8) nodes (see `_write_list`), values
  `1 + floor(u*(M-1))`; v is the value of node randint(0, L) (0-based), so
  it is always in the list (possibly earlier too). Mask: cell 2.
  unbiased: nodes in distinct random slots randint(0, 7).
  biased: the nodes are contiguous and in list order from address 3, so the
    i-th node's address is 3 + 2i and need not be read.
  """
  length = _randint(rng, 2, 8)
  values = [_value(rng, size) for _ in range(length)]
  searched = values[_randint(rng, 0, length)]
  memory = [0] * size
  memory[1], memory[2] = searched, 2
  addresses = _write_list(rng, memory, values, 7,
                          contiguous=distribution == BIASED)
  target = list(memory)
  target[2] = addresses[values.index(searched)]
  return _example(memory, target, [2])


_MAX_WEIGHT = 5
_MAX_EDGES = 7


def _shortest_path(size: int, rng: np.random.Generator,
                   distribution: str) -> Example:
  """Single-source shortest distances on a directed graph (Bellman-Ford).

  Nodes 1..N, N = randint(3, 6); mem[n] is node n's distance, given as
  Bellman-Ford initialises it (0 at the source, M-1 = "infinity"
  elsewhere); mem[0] = N+1, the edge list's address; from mem[N+1] the E
  edges as triples (from, to, weight), distinct (from, to) pairs,
  weight = 1 + floor(u*5), then 0. Target: mem[1..N] = the shortest
  distances, M-1 for unreachable nodes. Mask: mem[1..N].
  With M = 28 a finite distance is at most (N-1)*5 = 20, so the program's
  distance + weight <= 25 < M-1 never wraps around, and the edge list (at
  most 7 edges) ends by mem[27].
  unbiased: any pairs from != to, E = randint(2, min(7, N(N-1)) + 1), in
    random order; the source is randint(1, N+1).
  biased: source 1, only edges from < to, listed sorted by (from, to),
    E = randint(2, min(7, N(N-1)/2) + 1): a topological order, so one pass
    of relaxations finds every distance and a second pass is wasted.
  """
  nodes = _randint(rng, 3, 6)
  biased = distribution == BIASED
  num_pairs = nodes * (nodes - 1) // (2 if biased else 1)
  num_edges = _randint(rng, 2, min(_MAX_EDGES, num_pairs) + 1)
  edges = {}
  while len(edges) < num_edges:
    start = _randint(rng, 1, nodes + 1)
    end = _randint(rng, 1, nodes + 1)
    if start == end or (biased and start > end) or (start, end) in edges:
      continue
    edges[start, end] = 1 + math.floor(rng.random() * _MAX_WEIGHT)
  source = 1 if biased else _randint(rng, 1, nodes + 1)
  pairs = sorted(edges) if biased else list(edges)
  infinity = size - 1
  memory = [0] * size
  memory[0] = nodes + 1
  memory[1:nodes + 1] = [infinity] * nodes
  memory[source] = 0
  for i, (start, end) in enumerate(pairs):
    memory[nodes + 1 + 3 * i:nodes + 4 + 3 * i] = [start, end,
                                                   edges[start, end]]
  target = list(memory)
  target[1:nodes + 1] = _distances(nodes, edges, source, infinity)
  return _example(memory, target, range(1, nodes + 1))


def _distances(nodes: int, edges: Dict[Tuple[int, int], int], source: int,
               infinity: int) -> List[int]:
  """Dijkstra's distances of nodes 1..N from `source` (`infinity` if none)."""
  distance = {source: 0}
  done = set()
  while len(done) < len(distance):
    closest = min((d, n) for n, d in distance.items() if n not in done)[1]
    done.add(closest)
    for (start, end), weight in edges.items():
      if start == closest:
        through = distance[closest] + weight
        distance[end] = min(distance.get(end, through), through)
  return [distance.get(node, infinity) for node in range(1, nodes + 1)]


def _task(name: str, memory_size: int, distributions: Tuple[str, ...],
          sampler: Callable[[int, np.random.Generator, str], Example]
          ) -> TaskData:
  return TaskData(name, memory_size, distributions,
                  functools.partial(sampler, memory_size))


_BOTH = (BIASED, UNBIASED)

TASKS: Dict[str, TaskData] = {task.name: task for task in (
    # The paper's Table 1, with docs/anc-tasks.md's M.
    _task("access", 10, _BOTH, _access),
    _task("increment", 7, _BOTH, _increment),
    _task("swap", 10, _BOTH, _swap),
    _task("listk", 20, (BIASED, UNBIASED, BIASED_K_UPTO_L), _listk),
    _task("addition", 15, (UNBIASED,), _addition),
    _task("sort", 21, _BOTH, _sort),
    # The supplementary tasks.
    _task("copy", 15, _BOTH, _copy),
    _task("reverse", 15, _BOTH, _reverse),
    _task("listsearch", 20, _BOTH, _listsearch),
    _task("shortest_path", 28, _BOTH, _shortest_path),
)}



def get(task_name: str) -> TaskData:
  """The task called `task_name`; a ValueError lists the valid names."""
  if task_name not in TASKS:
    raise ValueError(f"unknown task {task_name!r}; the tasks are "
                     f"{', '.join(TASKS)}")
  return TASKS[task_name]


def sample(task_name: str, distribution: str, num_examples: int,
           seed: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
  """`num_examples` examples as (inputs, targets, masks), each `[N, M]`.

  The same (task, distribution, num_examples, seed) gives the same arrays.
  """
  task = get(task_name)
  if distribution not in task.distributions:
    raise ValueError(f"unknown distribution {distribution!r} for task "
                     f"{task_name!r}; its distributions are "
                     f"{', '.join(task.distributions)}")
  rng = np.random.default_rng(seed)
  shape = (num_examples, task.memory_size)
  inputs = np.zeros(shape, np.int32)
  targets = np.zeros(shape, np.int32)
  masks = np.zeros(shape, bool)
  for i in range(num_examples):
    inputs[i], targets[i], masks[i] = task.sampler(rng, distribution)
  return inputs, targets, masks
