"""The ANC tasks' data: memory layouts and distributions (docs/anc-tasks.md)."""

import functools

import numpy as np
import pytest

from tf_anc_datasets import anc_distributions

NUM_EXAMPLES = 200
SEED = 0

ALL_DISTRIBUTIONS = [(task.name, distribution)
                     for task in anc_distributions.TASKS.values()
                     for distribution in task.distributions]


@functools.lru_cache(maxsize=None)
def _sample(task_name, distribution, num_examples=NUM_EXAMPLES, seed=SEED):
  return anc_distributions.sample(task_name, distribution, num_examples, seed)


# --- the task table -------------------------------------------------------

def test_paper_tasks_have_the_memory_sizes_of_the_paper():
  sizes = {name: anc_distributions.TASKS[name].memory_size
           for name in ("access", "increment", "swap", "listk", "addition",
                        "sort")}
  assert sizes == {"access": 10, "increment": 7, "swap": 10, "listk": 20,
                   "addition": 15, "sort": 21}


def test_addition_has_only_the_unbiased_distribution():
  assert anc_distributions.TASKS["addition"].distributions == ("unbiased",)


def test_listk_offers_the_other_reading_of_the_note_as_a_distribution():
  assert anc_distributions.TASKS["listk"].distributions == (
      "biased", "unbiased", "biased_k_upto_l")


# --- sampling -------------------------------------------------------------

@pytest.mark.parametrize("task_name,distribution", ALL_DISTRIBUTIONS)
def test_samples_are_int32_memories_and_boolean_masks(task_name, distribution):
  inputs, targets, masks = anc_distributions.sample(task_name, distribution, 7, SEED)
  size = anc_distributions.TASKS[task_name].memory_size
  assert inputs.shape == targets.shape == masks.shape == (7, size)
  assert inputs.dtype == targets.dtype == np.int32
  assert masks.dtype == bool


@pytest.mark.parametrize("task_name,distribution", ALL_DISTRIBUTIONS)
def test_sampled_values_lie_in_the_machine_range(task_name, distribution):
  inputs, targets, _ = _sample(task_name, distribution)
  size = anc_distributions.TASKS[task_name].memory_size
  for memories in (inputs, targets):
    assert memories.min() >= 0 and memories.max() < size


@pytest.mark.parametrize("task_name,distribution", ALL_DISTRIBUTIONS)
def test_target_differs_from_input_only_on_masked_cells(task_name,
                                                        distribution):
  inputs, targets, masks = _sample(task_name, distribution)
  assert np.array_equal(inputs[~masks], targets[~masks])
  assert masks.any(axis=1).all()


@pytest.mark.parametrize("task_name,distribution", ALL_DISTRIBUTIONS)
def test_sampling_is_deterministic_for_a_seed(task_name, distribution):
  first = anc_distributions.sample(task_name, distribution, 20, seed=7)
  second = anc_distributions.sample(task_name, distribution, 20, seed=7)
  for a, b in zip(first, second):
    np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_samples():
  first, _, _ = anc_distributions.sample("sort", "unbiased", 20, seed=1)
  second, _, _ = anc_distributions.sample("sort", "unbiased", 20, seed=2)
  assert not np.array_equal(first, second)


def test_no_examples_give_empty_arrays():
  inputs, targets, masks = anc_distributions.sample("access", "biased", 0, SEED)
  assert inputs.shape == targets.shape == masks.shape == (0, 10)


def test_unknown_task_is_a_value_error_naming_the_tasks():
  with pytest.raises(ValueError, match="unknown task 'lisk'.*listk"):
    anc_distributions.sample("lisk", "biased", 1, SEED)


def test_unknown_distribution_is_a_value_error_naming_the_choices():
  with pytest.raises(ValueError, match="'biased'.*'addition'.*unbiased"):
    anc_distributions.sample("addition", "biased", 1, SEED)


# --- the distributions, spot-checked against docs/anc-tasks.md -----------

def test_biased_access_always_asks_for_the_element_at_cell_4():
  inputs, targets, masks = _sample("access", "biased")
  assert (inputs[:, 0] == 3).all()
  assert (targets[:, 0] == inputs[:, 4]).all()
  assert (masks == np.eye(10, dtype=bool)[0]).all()


def test_unbiased_access_index_points_inside_the_array():
  inputs, targets, _ = _sample("access", "unbiased")
  k = inputs[:, 0]
  assert k.max() <= 8 and len(set(k)) == 9
  assert (targets[:, 0] == inputs[np.arange(len(k)), k + 1]).all()


def test_biased_swap_always_exchanges_the_first_and_third_elements():
  inputs, targets, masks = _sample("swap", "biased")
  assert (inputs[:, 0] == 0).all() and (inputs[:, 1] == 2).all()
  assert (masks.sum(axis=1) == 2).all() and masks[:, [2, 4]].all()
  assert (targets[:, 2] == inputs[:, 4]).all()
  assert (targets[:, 4] == inputs[:, 2]).all()


def test_unbiased_swap_masks_the_two_exchanged_cells():
  inputs, _, masks = _sample("swap", "unbiased")
  for memory, mask in zip(inputs, masks):
    assert set(np.flatnonzero(mask)) == {2 + memory[0], 2 + memory[1]}
    length = np.count_nonzero(memory[2:])
    assert 2 <= length <= 7 and memory[:2].max() <= length - 2


def test_biased_increment_repeats_one_value_before_a_final_zero():
  inputs, targets, masks = _sample("increment", "biased")
  assert masks.all()
  assert (inputs[:, -1] == 0).all()
  assert (inputs[:, :-1] == inputs[:, :1]).all()
  assert (targets[:, :-1] == inputs[:, :-1] + 1).all()


def test_unbiased_increment_masks_the_elements_and_the_terminating_zero():
  inputs, _, masks = _sample("increment", "unbiased")
  for memory, mask in zip(inputs, masks):
    length = np.count_nonzero(memory)
    assert 1 <= length <= 5 and (memory[:length] <= 5).all()
    assert np.array_equal(np.flatnonzero(mask), np.arange(length + 1))


def _list_nodes(memory):
  """The (address, value) of the nodes of the linked list at mem[0]."""
  nodes, address = [], memory[0]
  while address:
    nodes.append((address, memory[address + 1]))
    address = memory[address]
  return nodes


@pytest.mark.parametrize("distribution", ["biased", "biased_k_upto_l"])
def test_biased_listk_list_is_contiguous_in_order_from_address_3(distribution):
  inputs, _, _ = _sample("listk", distribution)
  for memory in inputs:
    addresses = [address for address, _ in _list_nodes(memory)]
    assert addresses == list(range(3, 3 + 2 * len(addresses), 2))
    assert memory[2] == 2


def test_unbiased_listk_nodes_sit_in_distinct_slots_3_to_15():
  inputs, _, _ = _sample("listk", "unbiased")
  placed = set()
  for memory in inputs:
    addresses = [address for address, _ in _list_nodes(memory)]
    assert len(set(addresses)) == len(addresses)
    placed.update(addresses)
  assert placed == set(range(3, 16, 2))


@pytest.mark.parametrize("distribution,max_length,k_reaches_the_end", [
    ("unbiased", 7, False), ("biased", 7, False),
    ("biased_k_upto_l", 8, True)])
def test_listk_target_is_the_value_of_the_kth_node(distribution, max_length,
                                                   k_reaches_the_end):
  inputs, targets, masks = _sample("listk", distribution)
  lengths, reaches_end = [], []
  for memory, target, mask in zip(inputs, targets, masks):
    nodes = _list_nodes(memory)
    k = memory[1]
    assert target[2] == nodes[k - 1][1]
    assert np.array_equal(np.flatnonzero(mask), [2])
    lengths.append(len(nodes))
    reaches_end.append(k == len(nodes))
  assert min(lengths) == 2 and max(lengths) == max_length
  assert any(reaches_end) == k_reaches_the_end


def test_addition_sum_never_exceeds_m_minus_2():
  inputs, targets, _ = _sample("addition", "unbiased")
  assert (targets[:, 0] == inputs[:, 0] + inputs[:, 1]).all()
  assert targets[:, 0].max() == 13


def test_biased_sort_only_the_first_two_elements_can_be_out_of_order():
  inputs, targets, masks = _sample("sort", "biased")
  assert (masks == (np.arange(21) < 3)).all()
  assert (inputs[:, :2] <= 10).all()
  assert (inputs[:, 2] >= inputs[:, :2].max(axis=1)).all()
  assert (inputs[:, 0] > inputs[:, 1]).any()
  assert (targets[:, :3] == np.sort(inputs[:, :3], axis=1)).all()


def test_unbiased_sort_masks_the_elements():
  inputs, targets, masks = _sample("sort", "unbiased")
  lengths = np.count_nonzero(inputs, axis=1)
  assert set(lengths) == {1, 2, 3}
  assert (masks == (np.arange(21) < lengths[:, None])).all()


@pytest.mark.parametrize("task_name", ["copy", "reverse"])
def test_biased_copy_and_reverse_have_a_fixed_length_and_destination(
    task_name):
  inputs, _, masks = _sample(task_name, "biased")
  assert (inputs[:, 0] == 8).all()
  assert (inputs[:, 1:7] > 0).all() and (inputs[:, 7:] == 0).all()
  assert (masks == (np.arange(15) >= 8)).all()


@pytest.mark.parametrize("task_name,order", [("copy", 1), ("reverse", -1)])
def test_copy_and_reverse_write_the_array_and_a_zero_at_the_destination(
    task_name, order):
  inputs, targets, masks = _sample(task_name, "unbiased")
  destinations = set()
  for memory, target, mask in zip(inputs, targets, masks):
    length = np.count_nonzero(memory[1:])
    array, destination = memory[1:1 + length], memory[0]
    assert memory[length + 1] == 0 and destination >= length + 2
    assert np.array_equal(np.flatnonzero(mask),
                          np.arange(destination, destination + length + 1))
    assert np.array_equal(target[mask], list(array[::order]) + [0])
    destinations.add(destination)
  assert len(destinations) > 5


@pytest.mark.parametrize("distribution", ["biased", "unbiased"])
def test_listsearch_target_is_the_first_node_holding_the_value(distribution):
  inputs, targets, _ = _sample("listsearch", distribution)
  for memory, target in zip(inputs, targets):
    nodes = _list_nodes(memory)
    first = next(address for address, value in nodes if value == memory[1])
    assert target[2] == first
    if distribution == "biased":
      assert [address for address, _ in nodes] == list(
          range(3, 3 + 2 * len(nodes), 2))


def _graph(memory):
  """(N, edges as (from, to, weight) triples) of a ShortestPath memory."""
  nodes, edges, address = memory[0] - 1, [], memory[0]
  while memory[address]:
    edges.append(tuple(memory[address:address + 3]))
    address += 3
  return nodes, edges


def test_biased_shortest_path_lists_forward_edges_from_node_1_in_order():
  inputs, _, _ = _sample("shortest_path", "biased")
  for memory in inputs:
    nodes, edges = _graph(memory)
    assert memory[1] == 0 and (memory[2:nodes + 1] == 27).all()
    assert all(start < end for start, end, _ in edges)
    assert edges == sorted(edges)


def test_shortest_path_target_holds_the_shortest_distances():
  inputs, targets, masks = _sample("shortest_path", "unbiased")
  for memory, target, mask in zip(inputs, targets, masks):
    nodes, edges = _graph(memory)
    assert np.array_equal(np.flatnonzero(mask), np.arange(1, nodes + 1))
    assert all(1 <= weight <= 5 for _, _, weight in edges)
    distance = {n: 0 if memory[n] == 0 else np.inf
                for n in range(1, nodes + 1)}
    for _ in range(nodes):  # Bellman-Ford, in floating point
      for start, end, weight in edges:
        distance[end] = min(distance[end], distance[start] + weight)
    expected = [27 if d == np.inf else d for d in distance.values()]
    assert list(target[1:nodes + 1]) == expected
